// The host mark registry journal (patent: mark ID info 241): docs/FORMAT.md §6.
// One event per line, each line carrying its own CRC-32C, so that a mark costs one
// small append whatever the number of marks before it, and a crash mid-append leaves
// a last line that is recognisably incomplete.
import {crc32c} from './crc32c.js';

export const HOST_MARKS_JOURNAL = 'host-marks.journal';
/** The registry of earlier releases: one JSON document rewritten by every mark (§6.5). */
export const HOST_MARKS_LEGACY = 'host-marks.json';
export const HOST_MARKS_MAGIC = 'marklog host marks';
export const HOST_MARKS_FORMAT = 2;

/** §6.4: the journal is rewritten whole once it has grown past twice its compacted size plus this. */
export const COMPACT_SLACK = 256 * 1024;

/** §6.3: the largest integer an event holds (a safe integer, as the checks below have it), so the largest `next` a `spent` event can state. */
export const MAX_EVENT_INTEGER = Number.MAX_SAFE_INTEGER;
/** §6.3: the last mark ID the host issues in a group, the one whose `next` is still MAX_EVENT_INTEGER. */
export const LAST_MARK_ID = MAX_EVENT_INTEGER - 1;

/** §6.2: the characters before the JSON text: 8 lowercase hex digits and one space. */
export const LINE_PREFIX = 9;

export interface HeadEvent {
  e: 'head';
  magic: typeof HOST_MARKS_MAGIC;
  format: typeof HOST_MARKS_FORMAT;
  /** Size of the file in bytes when it was last written whole (§6.4). */
  compacted: number;
}

export interface SpentEvent {
  e: 'spent';
  group: number;
  /** Every mark ID below this one is spent in the group. */
  next: number;
}

export interface MarkEvent {
  e: 'mark';
  group: number;
  markId: number;
  logId: number;
  time: string;
  app: string;
}

export type HostMarksEvent = HeadEvent | SpentEvent | MarkEvent;

/** §6.3: the members of each event, in the order marklog writes them. */
export const EVENT_FIELDS = {
  head: ['e', 'magic', 'format', 'compacted'],
  spent: ['e', 'group', 'next'],
  mark: ['e', 'group', 'markId', 'logId', 'time', 'app'],
} as const;

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 1;

function shapeOk(event: Record<string, unknown>): boolean {
  // A key that is not a string would be converted to one (`["head"]` is "head", and an
  // object whose toString is not a function throws), and "toString" is no event.
  if (typeof event.e !== 'string' || !Object.hasOwn(EVENT_FIELDS, event.e)) return false;
  const fields: readonly string[] = EVENT_FIELDS[event.e as keyof typeof EVENT_FIELDS];
  const keys = Object.keys(event);
  if (keys.length !== fields.length || !fields.every(f => Object.hasOwn(event, f))) return false;
  switch (event.e) {
    case 'head': return event.magic === HOST_MARKS_MAGIC && event.format === HOST_MARKS_FORMAT && isCount(event.compacted);
    case 'spent': return isCount(event.group) && isId(event.next);
    default: return isCount(event.group) && isId(event.markId) && isCount(event.logId) && typeof event.time === 'string' && typeof event.app === 'string';
  }
}

export function encodeEvent(event: HostMarksEvent): Buffer {
  const ordered = Object.fromEntries(EVENT_FIELDS[event.e].map(f => [f, (event as unknown as Record<string, unknown>)[f]]));
  const json = Buffer.from(JSON.stringify(ordered), 'utf8');
  const crc = crc32c(json).toString(16).padStart(8, '0');
  return Buffer.concat([Buffer.from(`${crc} `, 'latin1'), json, Buffer.from('\n', 'latin1')]);
}

/** One line without its newline: the event, or why it cannot be trusted. */
export function decodeEvent(line: Buffer): HostMarksEvent | {reason: string} {
  if (line.length <= LINE_PREFIX || line[LINE_PREFIX - 1] !== 0x20) return {reason: 'not a registry line'};
  const hex = line.toString('latin1', 0, LINE_PREFIX - 1);
  if (!/^[0-9a-f]{8}$/.test(hex)) return {reason: 'not a registry line'};
  const json = line.subarray(LINE_PREFIX);
  if (crc32c(json) !== Number.parseInt(hex, 16)) return {reason: 'checksum mismatch'};
  let event: unknown;
  try {
    event = JSON.parse(json.toString('utf8'));
  } catch {
    return {reason: 'not JSON'};
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event) || !shapeOk(event as Record<string, unknown>)) return {reason: 'unknown event'};
  return event as HostMarksEvent;
}
