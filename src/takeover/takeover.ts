// Takeover at the remote (patent Fig. 22, paragraphs 0081–0083): with the
// production site lost, bring the group's R-VOLs up to date from the log — to a
// chosen mark, so writes after it (perhaps garbage from a failing site) are
// dropped — and make them writable here (SSWS). Touches only this site.
import {InvalidArgumentError, MarkNotFoundError, PairStateError, TakeoverUnfinishedError} from '../errors.js';
import {applyThrough} from '../log/apply.js';
import {Journal} from '../log/journal.js';
import {findGroup} from '../log/remote-log.js';
import {PairBitmap} from '../pair/bitmap.js';
import {checkBase, checkRecordsBefore, chooseMark, type LocatedMark} from '../restore/locate.js';
import {LogScan} from '../restore/scan.js';
import {takeoverBitmapName} from '../site/layout.js';
import type {Site} from '../site/site.js';
import type {LogGroupRow, Tables, TakeoverIntent} from '../site/tables.js';
import {hookPoint} from '../util/test-hooks.js';
import {formatBytes} from '../util/units.js';
import {describeIntent, finishTakeoverCommand} from './intent.js';

export const TAKEOVER_CHUNK = 64 * 1024;

export interface TakeoverOptions {
  group: number;
  /** A mark ID, 'latest', or absent for the whole log. */
  mark?: number | 'latest';
}

export interface TakeoverResult {
  group: number;
  markId: number | null;
  appliedRecords: number;
  /** Write records after the mark, discarded. */
  droppedRecords: number;
  volumes: {rvol: number; mvol: number; pair: number; state: 'SSWS'}[];
  since: string;
}

/**
 * Restartable: the decision (mark, log ID, counts) is saved before anything moves,
 * and each step after it ends in the same state when run again, so a rerun of the
 * same command after a crash at any point finishes the same takeover.
 */
export function takeover(site: Site, options: TakeoverOptions): TakeoverResult {
  return site.lock.run(() => {
    const tables = site.tables();
    const group = findGroup(site, tables, options.group);
    if (group.takenOver) throw new PairStateError(`log group ${options.group} was already taken over on ${group.takenOver}`);
    const fresh = group.takingOver ? undefined : decide(site, tables, group, options);
    const intent = fresh?.intent ?? resumable(site, group, options);
    const what = intent.markId === null ? 'the end of the log' : `mark ${intent.markId}`;
    applyThrough(site, tables, group, intent.upto, what, fresh?.scan);
    hookPoint('takeover:applied');
    // The records after the mark are dropped: the R-VOLs now go their own way.
    group.logVolumes = Journal.open(site, tables, group).consumeBefore(Number.MAX_SAFE_INTEGER);
    hookPoint('takeover:log-formatted');
    const since = intent.since;
    const volumes = group.members.map(member => {
      const row = site.volume(tables, member.rvol);
      const bitmap = takeoverBitmapName(member.rvol);
      PairBitmap.create(site.path(bitmap), row.capacity, TAKEOVER_CHUNK, false);
      row.rvolOf = {...row.rvolOf!, takeover: {group: group.group, since, markId: intent.markId, bitmap, chunkSize: TAKEOVER_CHUNK}, direction: 'forward'};
      // Hosts write here now (Fig. 22): the volume's path is defined at this site.
      row.pathDefined = true;
      return {rvol: member.rvol, mvol: member.mvol, pair: member.pair, state: 'SSWS' as const};
    });
    group.mode = 'STOPPED';
    group.takenOver = since;
    group.takingOver = null;
    site.save(tables);
    return {group: options.group, markId: intent.markId, appliedRecords: intent.appliedRecords, droppedRecords: intent.droppedRecords, volumes, since};
  });
}

/** What a takeover would do, decided from the log without changing anything (also `takeover --dry-run`). */
function choose(site: Site, tables: Tables, group: LogGroupRow, options: TakeoverOptions): {intent: TakeoverIntent; scan: LogScan; mark: LocatedMark | null; droppedBytes: number} {
  const journal = Journal.open(site, tables, group);
  const scan = LogScan.of(journal);
  let mark: LocatedMark | null = null;
  let upto = journal.lastLogId() + 1;
  if (options.mark !== undefined) {
    if (options.mark === 'latest' && scan.marks.length === 0) throw new MarkNotFoundError(`log group ${options.group} holds no mark to take over at`);
    // 'latest' goes through the same checks as a mark named by its ID (a mark after a gap is refused).
    mark = chooseMark(scan, {markId: options.mark === 'latest' ? scan.marks.at(-1)!.markId : options.mark});
    upto = mark.logId;
  }
  checkBase(site, tables, group, journal);
  const markId = mark?.markId ?? null;
  const applied = checkRecordsBefore(scan, upto, markId === null ? 'the end of the log' : `mark ${markId}`);
  let [droppedRecords, droppedBytes] = [0, 0];
  scan.writes.eachTarget((_index, logId, _ldev, length) => {
    if (logId < upto) return;
    droppedRecords++;
    droppedBytes += length;
  });
  const intent: TakeoverIntent = {markId, upto, appliedRecords: applied.records, droppedRecords, since: new Date().toISOString()};
  return {intent, scan, mark, droppedBytes};
}

/** Chooses the mark and checks the log, then records the intent (saved atomically) before any byte moves. */
function decide(site: Site, tables: Tables, group: LogGroupRow, options: TakeoverOptions): {intent: TakeoverIntent; scan: LogScan} {
  const {intent, scan} = choose(site, tables, group, options);
  group.takingOver = intent;
  site.save(tables);
  hookPoint('takeover:intent-saved');
  return {intent, scan};
}

export interface TakeoverPlan {
  group: number;
  markId: number | null;
  /** The chosen mark's host time and application; null when the whole log is applied. */
  markTime: string | null;
  app: string | null;
  appliedRecords: number;
  /** Write records after the mark, and their bytes: what the takeover would drop. */
  droppedRecords: number;
  droppedBytes: number;
  volumes: {rvol: number; mvol: number; pair: number}[];
  dryRun: true;
}

/** `takeover --dry-run`, and what the heartbeat watcher tells the operator before it asks. */
export function planTakeover(site: Site, options: TakeoverOptions): TakeoverPlan {
  return site.lock.run(() => {
    const tables = site.tables();
    const group = findGroup(site, tables, options.group);
    if (group.takenOver) throw new PairStateError(`log group ${options.group} was already taken over on ${group.takenOver}`);
    const {intent, mark, droppedBytes} = group.takingOver
      ? {intent: resumable(site, group, options), mark: null, droppedBytes: 0}
      : choose(site, tables, group, options);
    return {
      group: options.group, markId: intent.markId, markTime: mark ? new Date(mark.markTime / 1000).toISOString() : null, app: mark?.app ?? null,
      appliedRecords: intent.appliedRecords, droppedRecords: intent.droppedRecords, droppedBytes,
      volumes: group.members.map(m => ({rvol: m.rvol, mvol: m.mvol, pair: m.pair})), dryRun: true,
    };
  });
}

/** One line for a person: what the takeover would do. */
export function describePlan(plan: TakeoverPlan): string {
  const at = plan.markId === null ? 'the end of the log' : `mark ${plan.markId} (${plan.markTime}, ${plan.app})`;
  return `take over log group ${plan.group} at ${at}: ${plan.appliedRecords} writes applied, ${plan.droppedRecords} writes (${formatBytes(plan.droppedBytes)}) after it dropped; R-VOL ${plan.volumes.map(v => v.rvol).join(', ')} become writable here (SSWS)`;
}

/** A rerun finishes the takeover that was recorded; it cannot move to another mark any more. */
function resumable(site: Site, group: LogGroupRow, options: TakeoverOptions): TakeoverIntent {
  const intent = group.takingOver!;
  const same = options.mark === 'latest' || options.mark === (intent.markId ?? undefined);
  if (!same) {
    const asked = options.mark === undefined ? 'the end of the log' : `mark ${options.mark}`;
    throw new TakeoverUnfinishedError(`${describeIntent(group)}; it cannot change to ${asked} now`, `finish it with \`${finishTakeoverCommand(site.dir, group)}\``);
  }
  return intent;
}

export function parseTakeoverMark(text: string | undefined): TakeoverOptions['mark'] {
  if (text === undefined) return undefined;
  if (text === 'latest') return 'latest';
  if (/^\d+$/.test(text)) return Number(text);
  throw new InvalidArgumentError(`mark "${text}" must be latest or a mark ID`);
}
