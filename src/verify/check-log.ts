// Verify a log group's log: headers against their records (counts, log ID and
// mark ID info, usage), every record's CRC, log IDs strictly increasing and
// without gaps inside a volume, and the base generation.
import {Journal} from '../log/journal.js';
import type {MarkRecord} from '../format/log-format.js';
import type {Site} from '../site/site.js';
import type {LogGroupRow, Tables} from '../site/tables.js';
import type {Findings} from './finding.js';

export interface LogSummary {
  group: number;
  records: number;
  marks: number;
  damaged: number;
}

export function checkLogGroup(site: Site, tables: Tables, group: LogGroupRow, findings: Findings): LogSummary {
  const where = `log group ${group.group}`;
  const summary: LogSummary = {group: group.group, records: 0, marks: 0, damaged: 0};
  let journal: Journal;
  try {
    journal = Journal.open(site, tables, group);
  } catch (error) {
    findings.error('log-header', where, (error as Error).message, 'keep the log volume for analysis; restore from marks is not possible for this group');
    summary.damaged++;
    return summary;
  }
  // An apply that a takeover started is the takeover's to finish (check-recovery says how).
  if (group.applying && !group.takingOver) findings.error('apply-interrupted', where, `a log apply up to log ID ${group.applying} did not finish`, 'run the same `marklog log apply` again');
  for (const volume of journal.volumes) {
    if (volume.recoveredRecords > 0) {
      findings.warning('header-slot', `${where}, log volume ${volume.header.ldev}`,
        `a header slot was damaged or torn; the complete record past the older slot's tail was taken back`, 'the next append rewrites the header; keep an eye on this volume');
    } else if (volume.headerSlotDamaged && !volume.damageAfterTail) {
      findings.warning('header-slot', `${where}, log volume ${volume.header.ldev}`,
        `a header slot was damaged or torn, and no record past the older slot's tail could be read back: if the lost update was an append, its record is lost`,
        'restores to marks before the tail are unaffected; the next append rewrites the header');
    }
    if (volume.header.baseGeneration !== group.baseGeneration && !group.applying) {
      findings.error('base-generation', `${where}, log volume ${volume.header.ldev}`, `header says base generation ${volume.header.baseGeneration}, the group ${group.baseGeneration}`, 'this log does not belong to the base; start a new log');
    }
    if (volume.header.group !== group.group) {
      findings.error('log-volume-group', `${where}, log volume ${volume.header.ldev}`, `the volume's header names log group ${volume.header.group}`, 'a log volume from another group was attached; detach it from the tables');
    }
  }
  for (const member of group.members) {
    const row = tables.volumes.find(v => v.ldev === member.rvol);
    // A member changed outside log apply is check-log-state's finding.
    if (!row) findings.error('member-missing', where, `member R-VOL ${member.rvol} is not in the volume table`, 'restore the tables from a backup');
  }

  const perVolume = new Map<number, {records: number; marks: MarkRecord[]; last?: number; used: number}>();
  for (const volume of journal.volumes) perVolume.set(volume.header.ldev, {records: 0, marks: [], used: 0});
  for (const {record, logLdev} of journal.records(damage => {
    summary.damaged++;
    findings.error(damage.reason.replaceAll(' ', '-'), `${where}, log volume ${damage.logLdev} offset ${damage.offset}${damage.logId ? `, log ID ${damage.logId}` : ''}`,
      `${damage.reason}`, 'restores up to an earlier mark still work; keep the volume for analysis');
  })) {
    const seen = perVolume.get(logLdev)!;
    seen.last = record.logId;
    seen.records++;
    summary.records++;
    if (record.kind === 'mark') {
      seen.marks.push(record);
      summary.marks++;
    }
  }
  for (const volume of journal.volumes) {
    const h = volume.header;
    const seen = perVolume.get(h.ldev)!;
    const at = `${where}, log volume ${h.ldev}`;
    if (summary.damaged > 0) continue;
    if (seen.records !== h.records) findings.error('record-count', at, `header counts ${h.records} records, the volume holds ${seen.records}`, 'run `marklog log apply` or keep the volume for analysis');
    if (seen.marks.length !== h.marks) findings.error('mark-count', at, `header counts ${h.marks} marks, the volume holds ${seen.marks.length}`, 'keep the volume for analysis');
    if (seen.marks.length > 0) {
      const first = seen.marks[0];
      const last = seen.marks.at(-1)!;
      if (h.oldestMarkId !== first.markId || h.newestMarkId !== last.markId) {
        findings.error('mark-id-info', at, `mark ID info says ${h.oldestMarkId}..${h.newestMarkId}, the records ${first.markId}..${last.markId}`, 'keep the volume for analysis');
      }
    }
    if (seen.records > 0 && seen.last !== h.newestLogId) {
      findings.error('log-id-info', at, `newest log ID is ${h.newestLogId} in the header but ${seen.last} in the records`, 'keep the volume for analysis');
    }
  }
  return summary;
}
