// What the site holding a log answers on a link (patent Figs. 17, 19, 21): prepare
// a log group, append write and mark records, raise the capacity alert.
import {createRequire} from 'node:module';
import {InvalidArgumentError, MarkIdReusedError, MarkIdsExhaustedError, TakenOverError, LogFullError, LogGapError, LogGroupNotFoundError, LogModeError, PoolEmptyError, VolumeInUseError, WrongRoleError} from '../errors.js';
import {RESTART_HINT} from './log-gap.js';
import {MAX_RECORD_MARK_ID} from '../format/log-format.js';
import {Journal, type Appended, type NewEntry} from './journal.js';
import {LogVolume} from './log-volume.js';
import {refuseUnfinishedTakeover} from '../takeover/intent.js';
import type {Site} from '../site/site.js';
import type {LogGap, LogGroupRow, LoggedGap, LogMember, Tables} from '../site/tables.js';

export const DEFAULT_THRESHOLD = 0.8;

// child_process is loaded when an alert command runs, not by every command that
// appends to a log (it is a few milliseconds of each start-up: PERFORMANCE.md).
const require = createRequire(import.meta.url);

export interface PrepareRequest {
  group?: number;
  primarySite: string;
  members: LogMember[];
}

export interface PreparedGroup {
  group: number;
  logVolumes: number[];
  baseGeneration: number;
}

export function findGroup(site: Site, tables: Tables, group: number): LogGroupRow {
  const row = tables.groups.find(g => g.group === group);
  if (!row) {
    // Asked at the primary, the true answer is where the log lives, not that it is missing.
    if (tables.site.role === 'primary' && tables.link) {
      const remote = tables.link;
      throw new WrongRoleError(`${tables.site.name} is the primary; log group ${group} lives at the remote site ${remote.name} (${JSON.stringify(remote.remote)}): run this there`,
        `the same command with --site ${JSON.stringify(remote.remote)}`);
    }
    throw new LogGroupNotFoundError(tables.site.name, group);
  }
  return row;
}

/** Fig. 17: check the members, make sure a log volume is reserved, reset the log, enter log mode. */
export function prepareLogGroup(site: Site, request: PrepareRequest): PreparedGroup {
  return site.update(tables => {
    const number = request.group ?? Math.max(0, ...tables.groups.map(g => g.group)) + 1;
    let group = tables.groups.find(g => g.group === number);
    if (group?.mode === 'LOG' && !interruptedStart(site, tables, group, request)) {
      throw new LogModeError(`log group ${number} at ${tables.site.name} is already in log mode`, 'stop it first with `marklog log stop`');
    }
    if (group) refuseUnfinishedTakeover(site.dir, group, 'a new log start');
    for (const member of request.members) {
      const rvol = site.volume(tables, member.rvol);
      if (!rvol.rvolOf || rvol.rvolOf.primarySite !== request.primarySite || rvol.rvolOf.pair !== member.pair) {
        throw new VolumeInUseError(`LDEV ${member.rvol} at ${tables.site.name} is not the R-VOL of pair ${member.pair}`);
      }
      if (rvol.logGroup !== null && rvol.logGroup !== number) {
        throw new VolumeInUseError(`R-VOL LDEV ${member.rvol} already belongs to log group ${rvol.logGroup}`);
      }
    }
    if (!group) {
      group = {
        group: number, mode: 'STOPPED', primarySite: request.primarySite, members: [], logVolumes: [], baseGeneration: 0,
        memberGenerations: {}, threshold: DEFAULT_THRESHOLD, alertCommand: null, alertRaised: false, full: false, created: new Date().toISOString(),
      };
      tables.groups.push(group);
    }
    if (group.logVolumes.length === 0) {
      const spare = tables.volumes.find(v => v.reserve === 'POOL');
      if (!spare) throw new PoolEmptyError(`log group ${number} needs a log volume and the pool at ${tables.site.name} is empty`, 'add one with `marklog volume create --pool`');
      spare.reserve = 'LOG';
      spare.logGroup = number;
      group.logVolumes.push(spare.ldev);
    }
    for (const old of group.members) {
      const row = tables.volumes.find(v => v.ldev === old.rvol);
      if (row && row.logGroup === number) row.logGroup = null;
    }
    group.members = request.members;
    group.memberGenerations = {};
    for (const member of request.members) {
      const rvol = site.volume(tables, member.rvol);
      rvol.logGroup = number;
      group.memberGenerations[String(member.rvol)] = rvol.generation;
    }
    group.baseGeneration += 1;
    group.mode = 'LOG';
    group.full = false;
    group.gap = null;
    group.alertRaised = false;
    // The log ID sequence starts again at 1 for a new base.
    group.logVolumes.forEach((ldev, place) => {
      LogVolume.format(site.image(site.volume(tables, ldev)), {group: number, place, ldev, baseGeneration: group!.baseGeneration, siteId: tables.site.id, lastLogId: 0});
    });
    return {group: number, logVolumes: [...group.logVolumes], baseGeneration: group.baseGeneration};
  });
}

/**
 * A group in log mode for exactly these pairs of this primary, with nothing logged
 * yet, is a log start the primary never finished (killed before it suspended its
 * pairs, which are still in PAIR since it asks again): it is prepared afresh.
 */
function interruptedStart(site: Site, tables: Tables, group: LogGroupRow, request: PrepareRequest): boolean {
  const key = (members: LogMember[]) => members.map(m => `${m.pair}:${m.rvol}:${m.mvol}`).sort().join(',');
  if (group.primarySite !== request.primarySite || key(group.members) !== key(request.members)) return false;
  try {
    return Journal.open(site, tables, group).lastLogId() === 0;
  } catch {
    return false;
  }
}

export interface AppendResult {
  appended: Appended[];
  warnings: string[];
}

/** Fig. 19/20: append records to a group in log mode, then check the capacity threshold (Fig. 21). */
export function appendToLog(site: Site, groupNumber: number, entries: NewEntry[]): AppendResult {
  return site.lock.run(() => {
    // Only looked at: every change below goes through update().
    const tables = site.view();
    const group = findGroup(site, tables, groupNumber);
    if (group.takenOver) throw new TakenOverError(`log group ${groupNumber} at ${tables.site.name} was taken over on ${group.takenOver}`);
    // A takeover cut short will drop everything after its mark: nothing more may be logged.
    if (group.takingOver) throw new TakenOverError(`log group ${groupNumber} at ${tables.site.name} is being taken over (since ${group.takingOver.since})`);
    if (group.mode !== 'LOG') throw new LogModeError(`log group ${groupNumber} at ${tables.site.name} is not in log mode`);
    refuseNonMembers(tables, group, entries);
    const marks = entries.filter(e => e.kind === 'mark').map(e => (e as {markId: number}).markId);
    refuseUnencodableMarkIds(groupNumber, marks);
    if (group.gap && marks.length > 0) {
      const {gap} = group;
      throw new LogGapError(`log group ${groupNumber} never received a write of pair ${gap.pair} made on ${gap.time} (${gap.reason}): a mark now would not restore what the host wrote`, RESTART_HINT);
    }
    if (group.full) {
      // A write was already refused: the log has a gap from here, so nothing after it may be recorded.
      noteRefusedWrite(site, groupNumber, entries);
      throw new LogFullError(`log group ${groupNumber} is full and has dropped a write; nothing more is logged`,
        'apply the log up to a mark or extend it, then resync the pairs and start logging again');
    }
    const journal = Journal.open(site, tables, group);
    const lastMarkId = Math.max(group.lastMarkId ?? 0, ...journal.volumes.map(v => v.header.newestMarkId));
    const reused = marks.find(id => id <= lastMarkId);
    if (reused !== undefined) {
      throw new MarkIdReusedError(`mark ID ${reused} was already used in log group ${groupNumber} (highest so far: ${lastMarkId})`, lastMarkId + 1);
    }
    let appended: Appended[];
    try {
      appended = journal.append(entries);
    } catch (error) {
      if (error instanceof LogFullError && !group.full) {
        site.update(current => {
          findGroup(site, current, groupNumber).full = true;
        });
      }
      if (error instanceof LogFullError) noteRefusedWrite(site, groupNumber, entries);
      throw error;
    }
    if (marks.length > 0) {
      site.update(current => {
        findGroup(site, current, groupNumber).lastMarkId = Math.max(lastMarkId, ...marks);
      });
    }
    const usedRatio = usedRatioOf(journal);
    if (alertDue(group, usedRatio)) return site.update(current => ({appended, warnings: checkThreshold(site, current, findGroup(site, current, groupNumber), journal)}));
    return {appended, warnings: usedRatio >= group.threshold ? [alertText(group, usedRatio)] : []};
  });
}

/**
 * The log start froze the base of the group's members only (Fig. 17): a record for
 * any other LDEV belongs to no base a restore rebuilds, so the whole request is refused.
 */
function refuseNonMembers(tables: Tables, group: LogGroupRow, entries: NewEntry[]): void {
  for (const entry of entries) {
    if (entry.kind === 'mark' || group.members.some(m => m.rvol === entry.ldev)) continue;
    throw new InvalidArgumentError(`LDEV ${entry.ldev} is not in log group ${group.group} at ${tables.site.name} (members: ${group.members.map(m => m.rvol).join(', ') || 'none'}); its ${entry.kind} is not logged`);
  }
}

/** §4.4: a mark record holds a mark ID from 1 to 2^53 − 1; any other is refused before anything is written. */
function refuseUnencodableMarkIds(groupNumber: number, marks: number[]): void {
  const tooHigh = marks.find(id => id > MAX_RECORD_MARK_ID);
  if (tooHigh !== undefined) {
    throw new MarkIdsExhaustedError(`mark ID ${tooHigh} of log group ${groupNumber} is above ${MAX_RECORD_MARK_ID} (2^53 − 1), the highest a mark record holds`,
      'stop the group (`marklog log stop`), resync its pairs and log them in a new group (`marklog log start`)');
  }
  const malformed = marks.find(id => !Number.isSafeInteger(id) || id < 1);
  if (malformed !== undefined) throw new InvalidArgumentError(`mark ID ${malformed} of log group ${groupNumber} is not a whole number from 1 to ${MAX_RECORD_MARK_ID}`);
}

/** Records the group's first lost write (the earliest stays) right after its last record; returns it. */
export function recordLogGap(site: Site, gap: LogGap): LoggedGap {
  return site.lock.run(() => {
    const known = findGroup(site, site.view(), gap.group).gap;
    if (known) return known;
    return site.update(tables => {
      const group = findGroup(site, tables, gap.group);
      group.gap = {group: gap.group, pair: gap.pair, mvol: gap.mvol, time: gap.time, reason: gap.reason, afterLogId: Journal.open(site, tables, group).lastLogId()};
      return group.gap;
    });
  });
}

/** This site refused a write record itself (the log is full): the gap is known here before the primary says so. */
function noteRefusedWrite(site: Site, groupNumber: number, entries: NewEntry[]): void {
  const write = entries.find(e => e.kind === 'write') as {ldev: number} | undefined;
  if (!write) return;
  const member = findGroup(site, site.view(), groupNumber).members.find(m => m.rvol === write.ldev);
  recordLogGap(site, {group: groupNumber, pair: member?.pair ?? 0, mvol: member?.mvol ?? 0, time: new Date().toISOString(), reason: 'LOG_FULL'});
}

function usedRatioOf(journal: Journal): number {
  return 1 - journal.usage().freeRatio;
}

/** True when the log crossed its threshold (either way) since the alert was last raised or cleared. */
function alertDue(group: LogGroupRow, usedRatio: number): boolean {
  return (usedRatio >= group.threshold) !== group.alertRaised;
}

/** Raises the alert once per crossing of the threshold, and clears it when usage drops. */
export function checkThreshold(site: Site, tables: Tables, group: LogGroupRow, journal: Journal): string[] {
  const usedRatio = usedRatioOf(journal);
  const over = usedRatio >= group.threshold;
  if (!alertDue(group, usedRatio)) return over ? [alertText(group, usedRatio)] : [];
  group.alertRaised = over;
  site.save(tables);
  if (!over) return [];
  if (group.alertCommand) {
    const {spawn} = require('node:child_process') as typeof import('node:child_process');
    const child = spawn(group.alertCommand, {
      shell: true, detached: true, stdio: 'ignore',
      env: {...process.env, MARKLOG_SITE: site.dir, MARKLOG_GROUP: String(group.group), MARKLOG_USED_RATIO: usedRatio.toFixed(4)},
    });
    child.on('error', () => {});
    child.unref();
  }
  return [alertText(group, usedRatio)];
}

function alertText(group: LogGroupRow, usedRatio: number): string {
  return `log group ${group.group} is ${(usedRatio * 100).toFixed(1)}% full (alert at ${(group.threshold * 100).toFixed(0)}%); apply it up to a mark or extend it`;
}

export function parseThreshold(text: string): number {
  const match = /^(\d{1,3})%?$/.exec(text.trim());
  const percent = match ? Number(match[1]) : Number.NaN;
  if (!(percent >= 1 && percent <= 100)) throw new InvalidArgumentError(`threshold "${text}" must be a percentage from 1 to 100`);
  return percent / 100;
}
