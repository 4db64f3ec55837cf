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
  const markOk = (m: unknown) => typeof m === 'object' && m !== null && Number.isSafeInteger((m as HostMark).markId) && (m as HostMark).markId >= 1
    && Number.isSafeInteger((m as HostMark).logId) && typeof (m as HostMark).time === 'string' && typeof (m as HostMark).app === 'string';
  if (typeof doc !== 'object' || doc === null || doc.format !== 1 || typeof doc.groups !== 'object' || doc.groups === null || Array.isArray(doc.groups)
    || !Object.values(doc.groups).every(g => Number.isSafeInteger(g?.next) && g.next >= 1 && Array.isArray(g?.marks) && g.marks.every(markOk)
      && g.marks.every(m => m.markId < g.next))) {
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
