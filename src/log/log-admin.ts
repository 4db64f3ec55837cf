// Log status, extend, stop and config at the site holding the log (Figs. 10–12, 21).
import {InvalidArgumentError, LogModeError, PoolEmptyError, VolumeInUseError} from '../errors.js';
import {Journal, type LogUsage} from './journal.js';
import {LogVolume} from './log-volume.js';
import {checkThreshold, findGroup} from './remote-log.js';
import type {Site} from '../site/site.js';
import type {LogGroupRow, LoggedGap, LogMode, Tables} from '../site/tables.js';

export interface LogIdInfo {
  oldestLogId: number | null;
  oldestTime: string | null;
  newestLogId: number | null;
  newestTime: string | null;
}

export interface MarkIdInfo {
  oldestMarkId: number | null;
  oldestTime: string | null;
  newestMarkId: number | null;
  newestTime: string | null;
  marks: number;
}

export interface LogGroupStatus {
  group: number;
  mode: LogMode;
  full: boolean;
  members: LogGroupRow['members'];
  logVolumes: {ldev: number; capacity: number; used: number; records: number; marks: number}[];
  usage: LogUsage & {usedRatio: number};
  logIds: LogIdInfo;
  markIds: MarkIdInfo;
  threshold: number;
  alert: boolean;
  alertCommand: string | null;
  baseGeneration: number;
  applyInterrupted: boolean;
  /** The first write the log never received since log start, if any: no mark is taken while it is set. */
  gap: LoggedGap | null;
  /** A takeover that recorded its intent and did not finish (run `marklog takeover` again). */
  takeoverUnfinished: {markId: number | null; since: string} | null;
}

function iso(micros: number): string | null {
  return micros > 0 ? new Date(micros / 1000).toISOString() : null;
}

export function groupStatus(site: Site, tables: Tables, group: LogGroupRow): LogGroupStatus {
  const journal = Journal.open(site, tables, group);
  const live = journal.volumes.filter(v => v.header.records > 0);
  const withMarks = journal.volumes.filter(v => v.header.marks > 0);
  const first = live[0]?.header;
  const last = live.at(-1)?.header;
  const usage = journal.usage();
  return {
    group: group.group,
    mode: group.mode,
    full: group.full,
    members: group.members,
    logVolumes: journal.volumes.map(v => ({ldev: v.header.ldev, capacity: v.header.capacity, used: v.used, records: v.header.records, marks: v.header.marks})),
    usage: {...usage, usedRatio: 1 - usage.freeRatio},
    logIds: {
      oldestLogId: first ? first.oldestLogId : null, oldestTime: first ? iso(first.oldestLogTime) : null,
      newestLogId: last ? last.newestLogId : null, newestTime: last ? iso(last.newestLogTime) : null,
    },
    markIds: {
      oldestMarkId: withMarks[0]?.header.oldestMarkId ?? null, oldestTime: withMarks[0] ? iso(withMarks[0].header.oldestMarkTime) : null,
      newestMarkId: withMarks.at(-1)?.header.newestMarkId ?? null, newestTime: withMarks.at(-1) ? iso(withMarks.at(-1)!.header.newestMarkTime) : null,
      marks: journal.volumes.reduce((n, v) => n + v.header.marks, 0),
    },
    threshold: group.threshold,
    alert: group.alertRaised,
    alertCommand: group.alertCommand,
    baseGeneration: group.baseGeneration,
    applyInterrupted: Boolean(group.applying),
    gap: group.gap ?? null,
    takeoverUnfinished: group.takingOver ? {markId: group.takingOver.markId, since: group.takingOver.since} : null,
  };
}

export function logStatus(site: Site, group?: number): {groups: LogGroupStatus[]} {
  const tables = site.tables();
  const rows = group === undefined ? tables.groups : [findGroup(site, tables, group)];
  return {groups: rows.map(row => groupStatus(site, tables, row))};
}

/** Adds a pool volume (or the named one) to the end of a group's log (Fig. 21 relief). */
export function extendLog(site: Site, groupNumber: number, ldev?: number): LogGroupStatus {
  return site.update(tables => {
    const group = findGroup(site, tables, groupNumber);
    const volume = ldev === undefined ? tables.volumes.find(v => v.reserve === 'POOL') : site.volume(tables, ldev);
    if (!volume) throw new PoolEmptyError(`the pool at ${tables.site.name} is empty`, 'add a volume with `marklog volume create --pool`');
    if (volume.reserve !== 'POOL') throw new VolumeInUseError(`LDEV ${volume.ldev} is not in the pool (reserve: ${volume.reserve})`);
    const journal = Journal.open(site, tables, group);
    LogVolume.format(site.image(volume), {
      group: groupNumber, place: group.logVolumes.length, ldev: volume.ldev, baseGeneration: group.baseGeneration, siteId: tables.site.id,
      lastLogId: journal.lastLogId(),
    });
    volume.reserve = 'LOG';
    volume.logGroup = groupNumber;
    group.logVolumes.push(volume.ldev);
    group.full = false;
    checkThreshold(site, tables, group, Journal.open(site, tables, group));
    return groupStatus(site, tables, group);
  });
}

/** Ends log mode at the log's site. The log stays readable for restore. */
export function stopLogAtRemote(site: Site, groupNumber: number): LogGroupRow {
  return site.update(tables => {
    const group = findGroup(site, tables, groupNumber);
    if (group.mode !== 'LOG') throw new LogModeError(`log group ${groupNumber} is not in log mode`);
    group.mode = 'STOPPED';
    return group;
  });
}

export interface LogConfig {
  threshold?: number;
  alertCommand?: string | null;
}

export function configureLog(site: Site, groupNumber: number, config: LogConfig): LogGroupStatus {
  if (config.threshold === undefined && config.alertCommand === undefined) throw new InvalidArgumentError('nothing to change: give --threshold or --alert-command');
  return site.update(tables => {
    const group = findGroup(site, tables, groupNumber);
    if (config.threshold !== undefined) group.threshold = config.threshold;
    if (config.alertCommand !== undefined) group.alertCommand = config.alertCommand || null;
    checkThreshold(site, tables, group, Journal.open(site, tables, group));
    return groupStatus(site, tables, group);
  });
}
