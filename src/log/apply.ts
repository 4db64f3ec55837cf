// Log apply (patent Fig. 21 relief; also the in-place restore of Fig. 23): write
// every record before a mark into the R-VOLs, so the base moves forward to that
// mark, then drop those records and free their space. The mark stays as the
// oldest. Interrupted, it is run again and ends in the same state.
import {checkBase, checkRecordsBefore, chooseMark, type MarkChoice} from '../restore/locate.js';
import {replayUpTo} from '../restore/replay.js';
import {LogScan} from '../restore/scan.js';
import {Journal, type LogUsage} from './journal.js';
import {findGroup, checkThreshold} from './remote-log.js';
import {refuseUnfinishedTakeover} from '../takeover/intent.js';
import type {Site} from '../site/site.js';
import type {LogGroupRow, Tables} from '../site/tables.js';
import type {VolumeImage} from '../volume/image.js';

export interface ApplyResult {
  group: number;
  markId: number;
  logId: number;
  appliedRecords: number;
  appliedBytes: number;
  baseGeneration: number;
  usage: LogUsage;
}

export function applyLog(site: Site, groupNumber: number, choice: MarkChoice): ApplyResult {
  return site.lock.run(() => {
    const tables = site.tables();
    const group = findGroup(site, tables, groupNumber);
    refuseUnfinishedTakeover(site.dir, group, 'a log apply');
    const scan = LogScan.of(Journal.open(site, tables, group));
    try {
      const mark = chooseMark(scan, choice);
      const {replayed, journal} = applyThrough(site, tables, group, mark.logId, `mark ${mark.markId}`, scan);
      return {
        group: groupNumber, markId: mark.markId, logId: mark.logId, appliedRecords: replayed.records, appliedBytes: replayed.bytes,
        baseGeneration: group.baseGeneration, usage: journal.usage(),
      };
    } finally {
      scan.dispose();
    }
  });
}

/**
 * Writes every record below log ID `upto` into the group's R-VOLs and drops them
 * from the log. The caller holds the site lock. A rerun after a crash finds the
 * `applying` marker and finishes the same work.
 */
export function applyThrough(site: Site, tables: Tables, group: LogGroupRow, upto: number, what: string, scanned?: LogScan): {replayed: {records: number; bytes: number}; journal: Journal} {
  const scan = scanned ?? LogScan.of(Journal.open(site, tables, group));
  let journal = scan.journal;
  const resuming = group.applying === upto;
  if (!resuming) checkBase(site, tables, group, journal);
  checkRecordsBefore(scan, upto, what);
  if (!resuming) {
    // The new generation is fixed before any byte moves, so a rerun ends the same way.
    group.applying = upto;
    group.baseGeneration += 1;
    site.save(tables);
  }
  const targets = new Map<number, VolumeImage>(group.members.map(m => [m.rvol, site.image(site.volume(tables, m.rvol))]));
  let replayed;
  try {
    replayed = replayUpTo(scan, upto, targets);
  } finally {
    if (!scanned) scan.dispose();
  }
  for (const image of targets.values()) image.syncAll();

  group.logVolumes = journal.consumeBefore(upto);
  journal.stampBase(group.baseGeneration);
  group.applying = null;
  group.full = false;
  site.save(tables);
  journal = Journal.open(site, tables, group);
  checkThreshold(site, tables, group, journal);
  return {replayed, journal};
}
