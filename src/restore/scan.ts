// One pass over a log, for everything a restore, an apply or a takeover needs to
// decide and do: where each write's data sits, the marks, and any damage with its
// position. The data is checksummed once here and read again only for the bytes
// that end up in the target; or, for a target that may be thrown away, only the
// headers are read here and the one pass that writes also checks (replayVerifying).
import type {MarkRecord} from '../format/log-format.js';
import path from 'node:path';
import type {Corruption, Journal, ReadOptions} from '../log/journal.js';
import {WriteList} from './write-list.js';

export type {ScannedWrite} from './write-list.js';

/** The log volume a zero record's "bytes" come from: none, they read as zeros. */
export const ZEROS = -1;

export type LocatedMark = MarkRecord & {logLdev: number; address: number; position: number};

export interface ScannedDamage {
  /** How many good records the reader had yielded when it met the damage. */
  position: number;
  damage: Corruption;
}

export class LogScan {
  readonly writes: WriteList;
  readonly marks: LocatedMark[] = [];
  readonly damage: ScannedDamage[] = [];
  /**
   * Every good record's log ID in order, so a position can be found by log ID: as
   * runs of consecutive IDs (position and log ID where each run starts), since log
   * IDs run +1 from record to record except around damage.
   */
  private readonly runs: number[] = [];
  private records = 0;

  /** False when write records were planned from their headers only (see replayVerifying). */
  readonly checked: boolean;

  private constructor(readonly journal: Journal, options: ReadOptions) {
    this.checked = !options.headersOnly;
    // Past a few chunks the write list goes to a scratch file beside the log.
    this.writes = new WriteList(path.dirname(journal.volumes[0]?.image.file ?? '.'));
  }

  /**
   * `untilMark`: stop after that mark's record. A restore to a mark needs nothing
   * after it (neither its records nor damage there), so a restore to an early mark
   * reads only the early part of the log.
   */
  static of(journal: Journal, options: ReadOptions & {untilMark?: number} = {}): LogScan {
    const scan = new LogScan(journal, options);
    // Only positions and targets are kept, so a full pass may stream through one buffer.
    const read = journal.records(damage => scan.damage.push({position: scan.records, damage}), {streaming: !options.headersOnly, ...options});
    for (const {record, logLdev, address, dataOffset, dataLength, dataChecked, layout} of read) {
      const position = scan.note(record.logId);
      if (record.kind === 'mark') {
        scan.marks.push({...record, logLdev, address, position});
        if (record.markId === options.untilMark) break;
      } else if (record.kind === 'zero') {
        scan.writes.push({logId: record.logId, ldev: record.ldev, address: record.address, length: record.length, logLdev: ZEROS, source: 0, recordAt: address, dataChecked: true});
      } else {
        scan.writes.push({logId: record.logId, ldev: record.ldev, address: record.address, length: dataLength, logLdev, source: dataOffset, recordAt: address, dataChecked, layout});
      }
    }
    return scan;
  }

  /** Whether every write's bytes were checked by the scan, or can be checked where they are used (format 2). */
  get checkable(): boolean {
    return this.writes.everyCheckable();
  }

  /** The position of the first good record with a log ID at or above `logId` (the end when none). */
  positionOf(logId: number): number {
    // The last run starting at or below logId; log IDs only grow, so runs are sorted by both.
    let low = 0;
    let high = this.runs.length / 2;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.runs[2 * mid + 1] <= logId) low = mid + 1;
      else high = mid;
    }
    if (low === 0) return 0;
    const [start, firstId] = [this.runs[2 * (low - 1)], this.runs[2 * low - 1]];
    const runEnd = low < this.runs.length / 2 ? this.runs[2 * low] : this.records;
    return Math.min(start + (logId - firstId), runEnd);
  }

  /** Releases the write list's scratch file, if it needed one. */
  dispose(): void {
    this.writes.dispose();
  }

  /** Counts a good record; returns its position. */
  private note(logId: number): number {
    const position = this.records++;
    const last = this.runs.length - 2;
    if (last < 0 || logId !== this.runs[last + 1] + (position - this.runs[last])) this.runs.push(position, logId);
    return position;
  }

  /** The first damage met before reaching `position` in the log, if any. */
  damageBefore(position: number): Corruption | undefined {
    return this.damage.find(d => d.position <= position)?.damage;
  }
}
