// Log apply (patent Fig. 21 relief; also the in-place restore of Fig. 23): write
// every record before a mark into the R-VOLs, so the base moves forward to that
// mark, then drop those records and free their space. The mark stays as the
// oldest. Interrupted, it is run again and ends in the same state.
import {checkBase, checkRecordsBefore, chooseMark, type MarkChoice} from '../restore/locate.js';
import {replayUpTo} from '../restore/replay.js';
import {Journal, type LogUsage} from './journal.js';
import {findGroup, checkThreshold} from './remote-log.js';
import type {Site} from '../site/site.js';
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
    let journal = Journal.open(site, tables, group);
    const mark = chooseMark(journal, choice);
    const resuming = group.applying === mark.logId;
    if (!resuming) checkBase(site, tables, group, journal);
    checkRecordsBefore(journal, mark);

    if (!resuming) {
      // The new generation is fixed before any byte moves, so a rerun ends the same way.
      group.applying = mark.logId;
      group.baseGeneration += 1;
      site.save(tables);
    }
    const targets = new Map<number, VolumeImage>(group.members.map(m => [m.rvol, site.image(site.volume(tables, m.rvol))]));
    const replayed = replayUpTo(journal, mark, targets);
    for (const image of targets.values()) image.syncAll();

    group.logVolumes = journal.consumeBefore(mark.logId);
    journal.stampBase(group.baseGeneration);
    group.applying = null;
    group.full = false;
    site.save(tables);
    journal = Journal.open(site, tables, group);
    checkThreshold(site, tables, group, journal);
    const {baseGeneration} = group;
    return {
      group: groupNumber, markId: mark.markId, logId: mark.logId, appliedRecords: replayed.records, appliedBytes: replayed.bytes,
      baseGeneration, usage: journal.usage(),
    };
  });
}
