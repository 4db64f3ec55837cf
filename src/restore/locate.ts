// Finding the mark a restore or an apply goes to, and checking that the log may
// be replayed onto its base: same base generation, no interrupted apply, and no
// damaged record before the mark.
import {BaseMismatchError, CorruptLogError, InvalidArgumentError, MarkNotFoundError} from '../errors.js';
import type {Corruption, Journal} from '../log/journal.js';
import {refuseRestoreAfterGap} from '../log/log-gap.js';
import type {LocatedMark, LogScan} from './scan.js';
import type {MarkRecord} from '../format/log-format.js';
import type {Site} from '../site/site.js';
import type {LogGroupRow, Tables} from '../site/tables.js';

export type {LocatedMark} from './scan.js';

export interface MarkChoice {
  markId?: number;
  /** The last mark at or before this time. */
  time?: Date;
}

export function chooseMark(scan: LogScan, choice: MarkChoice): LocatedMark {
  const {journal, marks} = scan;
  const group = journal.group.group;
  const missing = (what: string): never => {
    // A mark that cannot be found in a damaged log may be behind the damage: say so.
    if (scan.damage.length > 0) throw corruptionError(journal, scan.damage[0].damage, what);
    // A lost header update described one record more; if it cannot be read back, the mark may be that one.
    const torn = journal.volumes.find(v => v.headerSlotDamaged && v.recoveredRecords === 0);
    if (torn) {
      throw new CorruptLogError(`log group ${group}: a header slot of log volume ${torn.header.ldev} is damaged and the record its update described cannot be read, so ${what} may be in the log but unreadable`,
        'restore to an earlier mark, or run `marklog verify`');
    }
    const known = marks.length ? `marks in the log: ${marks[0].markId}..${marks.at(-1)!.markId}` : 'the log holds no marks';
    throw new MarkNotFoundError(`log group ${group} has no ${what} (${known})`, 'see `marklog mark list`');
  };
  const checked = (mark: LocatedMark): LocatedMark => {
    refuseRestoreAfterGap(journal.group, mark);
    return mark;
  };
  if (choice.markId !== undefined) {
    return checked(marks.find(m => m.markId === choice.markId) ?? missing(`mark ${choice.markId}`));
  }
  if (choice.time) {
    const at = choice.time.getTime() * 1000;
    return checked(marks.filter(m => m.markTime <= at).at(-1) ?? missing(`mark at or before ${choice.time.toISOString()}`));
  }
  throw new InvalidArgumentError('name a mark with --mark ID or a time with --time');
}

export function corruptionError(journal: Journal, damage: Corruption, what: string): CorruptLogError {
  return new CorruptLogError(
    `log group ${journal.group.group}: ${damage.reason} in the record${damage.logId ? ` with log ID ${damage.logId}` : ''} at log volume ${damage.logLdev} address ${damage.offset}, before ${what}`,
    'restore to an earlier mark, or run `marklog verify`');
}

/** The log must describe changes to exactly the base the R-VOLs hold now. */
export function checkBase(site: Site, tables: Tables, group: LogGroupRow, journal: Journal): void {
  if (group.applying) {
    throw new BaseMismatchError(`an apply of log group ${group.group} up to log ID ${group.applying} was interrupted; the base is part-way`, 'run the same `marklog log apply` again to finish it');
  }
  for (const volume of journal.volumes) {
    if (volume.header.baseGeneration !== group.baseGeneration) {
      throw new BaseMismatchError(`log volume ${volume.header.ldev} belongs to base generation ${volume.header.baseGeneration}, but group ${group.group} is at ${group.baseGeneration}`);
    }
  }
  for (const member of group.members) {
    const row = site.volume(tables, member.rvol);
    const expected = group.memberGenerations[String(member.rvol)];
    if (row.generation !== expected) {
      throw new BaseMismatchError(`R-VOL LDEV ${member.rvol} changed outside log apply since log start (a resync or a direct write); its log no longer fits it`,
        'start a new log with `marklog log start` after the pair is back in PAIR');
    }
  }
}

/**
 * Fails on the first damage met before reaching log ID `upto` — before anything
 * is written. "Before" is by position in the log: a damaged record's own log ID
 * proves nothing. Returns the write records and bytes before it.
 */
export function checkRecordsBefore(scan: LogScan, upto: number, what: string): {records: number; bytes: number} {
  const position = scan.positionOf(upto);
  const damage = scan.damageBefore(position);
  if (damage) throw corruptionError(scan.journal, damage, what);
  let records = 0;
  let bytes = 0;
  scan.writes.eachTarget((_index, logId, _ldev, length) => {
    if (logId >= upto) return false;
    records++;
    bytes += length;
  });
  return {records, bytes};
}
