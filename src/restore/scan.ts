// One pass over a log, for everything a restore, an apply or a takeover needs to
// decide and do: where each write's data sits, the marks, and any damage with its
// position. The data is checksummed once here and read again only for the bytes
// that end up in the target; or, for a target that may be thrown away, only the
// headers are read here and the one pass that writes also checks (replayVerifying).
import type {MarkRecord} from '../format/log-format.js';
import type {WriteLayoutV2} from '../format/log-record-v2.js';
import type {Corruption, Journal, ReadOptions} from '../log/journal.js';

export interface ScannedWrite {
  logId: number;
  ldev: number;
  address: number;
  length: number;
  /** Where the written bytes sit in the log; for a zero record (no bytes), logLdev is ZEROS. */
  logLdev: number;
  source: number;
  /** The record's own offset in its log volume (what damage reports name). */
  recordAt: number;
  /** Whether the scan read and checked the bytes; if not, `layout` (format 2) checks the ones used. */
  dataChecked: boolean;
  layout?: WriteLayoutV2;
}

/** The log volume a zero record's "bytes" come from: none, they read as zeros. */
export const ZEROS = -1;

export type LocatedMark = MarkRecord & {logLdev: number; address: number; position: number};

export interface ScannedDamage {
  /** How many good records the reader had yielded when it met the damage. */
  position: number;
  damage: Corruption;
}

export class LogScan {
  readonly writes: ScannedWrite[] = [];
  readonly marks: LocatedMark[] = [];
  readonly damage: ScannedDamage[] = [];
  /** Every good record's log ID in order, so a position can be found by log ID. */
  private readonly logIds: number[] = [];

  /** False when write records were planned from their headers only (see replayVerifying). */
  readonly checked: boolean;

  private constructor(readonly journal: Journal, options: ReadOptions) {
    this.checked = !options.headersOnly;
  }

  /**
   * `untilMark`: stop after that mark's record. A restore to a mark needs nothing
   * after it (neither its records nor damage there), so a restore to an early mark
   * reads only the early part of the log.
   */
  static of(journal: Journal, options: ReadOptions & {untilMark?: number} = {}): LogScan {
    const scan = new LogScan(journal, options);
    // Only positions and targets are kept, so a full pass may stream through one buffer.
    const read = journal.records(damage => scan.damage.push({position: scan.logIds.length, damage}), {streaming: !options.headersOnly, ...options});
    for (const {record, logLdev, address, dataOffset, dataLength, dataChecked, layout} of read) {
      const position = scan.logIds.length;
      scan.logIds.push(record.logId);
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
    return this.writes.every(w => w.dataChecked || w.layout !== undefined);
  }

  /** The position of the first good record with a log ID at or above `logId` (the end when none). */
  positionOf(logId: number): number {
    let low = 0;
    let high = this.logIds.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.logIds[mid] < logId) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** The first damage met before reaching `position` in the log, if any. */
  damageBefore(position: number): Corruption | undefined {
    return this.damage.find(d => d.position <= position)?.damage;
  }
}
