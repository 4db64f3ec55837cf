// Takeover at the remote (patent Fig. 22, paragraphs 0081–0083): with the
// production site lost, bring the group's R-VOLs up to date from the log — to a
// chosen mark, so writes after it (perhaps garbage from a failing site) are
// dropped — and make them writable here (SSWS). Touches only this site.
import {InvalidArgumentError, MarkNotFoundError, PairStateError} from '../errors.js';
import {applyThrough} from '../log/apply.js';
import {Journal} from '../log/journal.js';
import {findGroup} from '../log/remote-log.js';
import {PairBitmap} from '../pair/bitmap.js';
import {chooseMark} from '../restore/locate.js';
import {LogScan} from '../restore/scan.js';
import {takeoverBitmapName} from '../site/layout.js';
import type {Site} from '../site/site.js';

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

export function takeover(site: Site, options: TakeoverOptions): TakeoverResult {
  return site.lock.run(() => {
    const tables = site.tables();
    const group = findGroup(site, tables, options.group);
    if (group.takenOver) throw new PairStateError(`log group ${options.group} was already taken over on ${group.takenOver}`);
    let journal = Journal.open(site, tables, group);
    const scan = LogScan.of(journal);
    let markId: number | null = null;
    let upto = journal.lastLogId() + 1;
    if (options.mark !== undefined) {
      if (options.mark === 'latest' && scan.marks.length === 0) throw new MarkNotFoundError(`log group ${options.group} holds no mark to take over at`);
      const mark = options.mark === 'latest' ? scan.marks.at(-1)! : chooseMark(scan, {markId: options.mark});
      markId = mark.markId;
      upto = mark.logId;
    }
    const {replayed} = applyThrough(site, tables, group, upto, markId === null ? 'the end of the log' : `mark ${markId}`, scan);
    journal = Journal.open(site, tables, group);
    let dropped = 0;
    for (const {record} of journal.records()) if (record.kind === 'write') dropped++;
    group.logVolumes = journal.consumeBefore(Number.MAX_SAFE_INTEGER);
    const since = new Date().toISOString();
    group.mode = 'STOPPED';
    group.takenOver = since;
    const volumes = group.members.map(member => {
      const row = site.volume(tables, member.rvol);
      const bitmap = takeoverBitmapName(member.rvol);
      PairBitmap.create(site.path(bitmap), row.capacity, TAKEOVER_CHUNK, false);
      row.rvolOf = {...row.rvolOf!, takeover: {group: group.group, since, bitmap, chunkSize: TAKEOVER_CHUNK}, direction: 'forward'};
      return {rvol: member.rvol, mvol: member.mvol, pair: member.pair, state: 'SSWS' as const};
    });
    site.save(tables);
    return {group: options.group, markId, appliedRecords: replayed.records, droppedRecords: dropped, volumes, since};
  });
}

export function parseTakeoverMark(text: string | undefined): TakeoverOptions['mark'] {
  if (text === undefined) return undefined;
  if (text === 'latest') return 'latest';
  if (/^\d+$/.test(text)) return Number(text);
  throw new InvalidArgumentError(`mark "${text}" must be latest or a mark ID`);
}
