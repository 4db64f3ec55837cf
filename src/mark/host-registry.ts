// The host's own record of the marks it issued (patent: mark ID info 241): a
// counter and a list per log group, kept beside the primary site's tables.
import fs from 'node:fs';
import path from 'node:path';
import {CorruptTablesError} from '../errors.js';
import {writeFileAtomic} from '../util/atomic-file.js';
import type {HostMark} from '../site/tables.js';

export const HOST_MARKS_FILE = 'host-marks.json';

export interface HostRegistry {
  format: 1;
  groups: Record<string, {next: number; marks: HostMark[]}>;
}

export function registryPath(siteDir: string): string {
  return path.join(siteDir, HOST_MARKS_FILE);
}

export function loadRegistry(siteDir: string): HostRegistry {
  const file = registryPath(siteDir);
  if (!fs.existsSync(file)) return {format: 1, groups: {}};
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CorruptTablesError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  const doc = parsed as HostRegistry;
  if (typeof doc !== 'object' || doc === null || doc.format !== 1 || typeof doc.groups !== 'object' || doc.groups === null
    || !Object.values(doc.groups).every(g => Number.isSafeInteger(g?.next) && Array.isArray(g?.marks))) {
    throw new CorruptTablesError(`${file}: the host mark registry is damaged`);
  }
  return doc;
}

export function saveRegistry(siteDir: string, registry: HostRegistry): void {
  writeFileAtomic(registryPath(siteDir), `${JSON.stringify(registry, null, 2)}\n`);
}

export function groupEntry(registry: HostRegistry, group: number): {next: number; marks: HostMark[]} {
  const key = String(group);
  registry.groups[key] ??= {next: 1, marks: []};
  return registry.groups[key];
}
