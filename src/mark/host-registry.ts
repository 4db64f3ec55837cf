// The host's own record of the marks it issued (patent: mark ID info 241): per log
// group, the next mark ID and the marks the remote acknowledged, kept beside the
// primary site's tables as an append-only journal (docs/FORMAT.md §6). Readers
// replay it whole; `mark` only appends, so its cost does not grow with the marks.
import fs from 'node:fs';
import path from 'node:path';
import {CorruptTablesError} from '../errors.js';
import {syncDirectory, writeFileAtomic} from '../util/atomic-file.js';
import {
  HOST_MARKS_FORMAT, HOST_MARKS_JOURNAL, HOST_MARKS_LEGACY, HOST_MARKS_MAGIC, decodeEvent, encodeEvent, type HostMarksEvent,
} from '../format/host-marks-format.js';
import type {HostMark} from '../site/tables.js';

export const HOST_MARKS_FILE = HOST_MARKS_JOURNAL;
export const REPAIR_HINT = 'move the registry file aside: the next mark starts a new one and takes up the numbering from the remote log, which is unaffected (earlier marks then list as remote only)';

export interface GroupMarks {
  next: number;
  marks: HostMark[];
}

export interface HostRegistry {
  groups: Record<string, GroupMarks>;
  /** Bytes at the end of the journal left by an append that never completed (ignored, cut by the next mark). */
  tornBytes: number;
}

export function registryPath(siteDir: string): string {
  return path.join(siteDir, HOST_MARKS_JOURNAL);
}

export function legacyRegistryPath(siteDir: string): string {
  return path.join(siteDir, HOST_MARKS_LEGACY);
}

/** Every group's next mark ID and marks, from the journal (or, before the first mark of this release, from host-marks.json). */
export function loadRegistry(siteDir: string): HostRegistry {
  const file = registryPath(siteDir);
  if (fs.existsSync(file)) return replay(file, fs.readFileSync(file));
  return {groups: loadLegacy(siteDir), tornBytes: 0};
}

/** The events of a journal, applied in order; damage before the last line is corruption (§6.4). */
function replay(file: string, bytes: Buffer): HostRegistry {
  const groups: Record<string, GroupMarks> = {};
  const damaged = (offset: number, why: string) => new CorruptTablesError(`${file}: the host mark registry is damaged at byte ${offset} (${why})`, REPAIR_HINT);
  let at = 0;
  let lineNo = 0;
  while (at < bytes.length) {
    const end = bytes.indexOf(0x0a, at);
    if (end < 0) break;
    const event = decodeEvent(bytes.subarray(at, end));
    if ('reason' in event) {
      if (end + 1 === bytes.length && lineNo > 0) break;
      throw damaged(at, event.reason);
    }
    const problem = lineNo === 0 ? (event.e === 'head' ? null : 'no header') : apply(groups, event);
    if (problem) throw damaged(at, problem);
    lineNo++;
    at = end + 1;
  }
  if (lineNo === 0) throw damaged(0, 'no header');
  return {groups, tornBytes: bytes.length - at};
}

/** Applies one event; a reason when it contradicts what came before. */
function apply(groups: Record<string, GroupMarks>, event: HostMarksEvent): string | null {
  if (event.e === 'head') return 'a second header';
  const group = (groups[String(event.group)] ??= {next: 1, marks: []});
  if (event.e === 'spent') {
    if (event.next < group.next) return `group ${event.group}: next mark ID ${event.next} goes back from ${group.next}`;
    group.next = event.next;
    return null;
  }
  if (event.markId >= group.next) return `group ${event.group}: mark ${event.markId} was never spent`;
  // Marks are recorded under the site lock in the order their IDs were spent.
  const last = group.marks.at(-1);
  if (last && event.markId <= last.markId) return `group ${event.group}: mark ${event.markId} after mark ${last.markId}`;
  group.marks.push({markId: event.markId, logId: event.logId, time: event.time, app: event.app});
  return null;
}

/** host-marks.json of earlier releases: one document, rewritten whole by every mark. */
function loadLegacy(siteDir: string): Record<string, GroupMarks> {
  const file = legacyRegistryPath(siteDir);
  if (!fs.existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CorruptTablesError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  const doc = parsed as {format: unknown; groups: Record<string, GroupMarks>};
  const markOk = (m: unknown) => typeof m === 'object' && m !== null && Number.isSafeInteger((m as HostMark).markId) && (m as HostMark).markId >= 1
    && Number.isSafeInteger((m as HostMark).logId) && (m as HostMark).logId >= 0 && typeof (m as HostMark).time === 'string' && typeof (m as HostMark).app === 'string';
  if (typeof doc !== 'object' || doc === null || doc.format !== 1 || typeof doc.groups !== 'object' || doc.groups === null || Array.isArray(doc.groups)
    || !Object.keys(doc.groups).every(key => /^(0|[1-9]\d{0,8})$/.test(key))
    || !Object.values(doc.groups).every(g => Number.isSafeInteger(g?.next) && g.next >= 1 && Array.isArray(g?.marks) && g.marks.every(markOk)
      && g.marks.every((m, i) => m.markId < g.next && (i === 0 || m.markId > g.marks[i - 1].markId)))) {
    throw new CorruptTablesError(`${file}: the host mark registry is damaged`);
  }
  return Object.fromEntries(Object.entries(doc.groups).map(([key, g]) => [key, {
    next: g.next, marks: g.marks.map(m => ({markId: m.markId, logId: m.logId, time: m.time, app: m.app})),
  }]));
}

/** The whole registry as the fewest events: a header, then per group its next ID and its marks. */
export function snapshotBytes(groups: Record<string, GroupMarks>): Buffer {
  const body = Buffer.concat(Object.keys(groups).map(Number).sort((a, b) => a - b).flatMap(group => [
    encodeEvent({e: 'spent', group, next: groups[String(group)].next}),
    ...groups[String(group)].marks.map(m => encodeEvent({e: 'mark', group, markId: m.markId, logId: m.logId, time: m.time, app: m.app})),
  ]));
  // The header states the file's own size, which its digits change: settle it.
  let size = body.length;
  for (;;) {
    const head = encodeEvent({e: 'head', magic: HOST_MARKS_MAGIC, format: HOST_MARKS_FORMAT, compacted: size});
    if (head.length + body.length === size) return Buffer.concat([head, body]);
    size = head.length + body.length;
  }
}

/** Replaces the journal with its snapshot (temp, fsync, rename); the legacy file, if any, goes after. */
export function rewriteRegistry(siteDir: string, groups: Record<string, GroupMarks>): void {
  writeFileAtomic(registryPath(siteDir), snapshotBytes(groups));
  dropLegacy(siteDir);
}

/** Once the journal exists it holds everything host-marks.json held (it was written from it first). */
export function dropLegacy(siteDir: string): void {
  const legacy = legacyRegistryPath(siteDir);
  if (!fs.existsSync(legacy)) return;
  fs.rmSync(legacy, {force: true});
  syncDirectory(siteDir);
}
