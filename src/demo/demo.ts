// `marklog demo`: a real two-site setup built with the library, step by step, as a
// story an administrator can follow. Every step calls the same functions the CLI
// commands call; the events let a caller show the story, the result is for --json.
import crypto from 'node:crypto';
import {sha256File} from '../util/file-hash.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {InvalidArgumentError} from '../errors.js';
import {hostRead, hostWrite} from '../io/host-io.js';
import {logStatus, type LogGroupStatus} from '../log/log-admin.js';
import {startLogging} from '../log/log-start.js';
import {issueMark} from '../mark/mark.js';
import {listMarks, type MarkList} from '../mark/mark-list.js';
import {restoreToMark} from '../restore/restore.js';
import {createPair} from '../pair/pair-create.js';
import {resyncPair, suspendPair} from '../pair/pair-control.js';
import {displayPairs, type PairView} from '../pair/pair-display.js';
import {closeLink} from '../site/link-opener.js';
// The demo is an entry point (the library and `marklog demo` run it): it plugs in the transports.
import '../transport/transports.js';
import {initSite, linkSites, showSite, type SiteSummary, type SiteView} from '../site/site-admin.js';
import {Site} from '../site/site.js';
import {createVolume, listVolumes} from '../volume/volume-admin.js';
import {formatBytes} from '../util/units.js';
import type {CopyProgress} from '../pair/copy.js';
import type {PairState, VolumeRow} from '../site/tables.js';

const MIB = 1024 * 1024;
const CAPACITY = 256 * MIB;
/** Where the host puts data before the pair exists; the rest of the M-VOL stays holes. */
const EXTENTS = [{offset: 0, length: 6 * MIB}, {offset: 40 * MIB, length: 6 * MIB}, {offset: 100 * MIB, length: 6 * MIB}, {offset: 200 * MIB, length: 6 * MIB}];
/** Host writes while the pair is in PAIR state. */
const PAIR_WRITES = [{offset: 3 * MIB + 512, length: 8192}, {offset: 150 * MIB, length: 4096}];
/** Host writes while the pair is suspended: one inside a data extent, one in a hole, one near the end. */
const SUSPENDED_WRITES = [{offset: MIB + 100, length: 4096}, {offset: 128 * MIB, length: 4096}, {offset: 255 * MIB + 8192, length: 4096}];
/** The log volume the remote takes from its pool at log start. */
const POOL_CAPACITY = 64 * MIB;
/**
 * In log mode the application saves its document twice, with a mark after each
 * save; version 2 rewrites part of version 1, so a restore must replay in log order.
 */
const SAVES = [
  {app: 'app saved v1', writes: [{offset: 2 * MIB, length: 16384}, {offset: 100 * MIB, length: 8192}]},
  {app: 'app saved v2', writes: [{offset: 2 * MIB + 8192, length: 16384}, {offset: 180 * MIB, length: 4096}]},
];
/** Then the failing primary scribbles over the start of the volume and over version 2's data; no mark follows. */
const GARBAGE_WRITES = [{offset: 0, length: MIB}, {offset: 2 * MIB, length: 64 * 1024}, {offset: 180 * MIB, length: 4096}];
/** The mark the demo restores to: the last good one. */
const RESTORE_MARK_INDEX = 1;
const HASH_PIECE = 8 * MIB;

export interface DemoProgress {
  update(progress: CopyProgress): void;
  done(): void;
}

export interface DemoOptions {
  /** Build the sites here (absent or empty); default: a new temporary directory. */
  dir?: string;
  /** Leave the sites on disk afterwards. */
  keep?: boolean;
  /** Receives the story as it happens; omit it for a silent run. */
  onEvent?: (event: DemoEvent) => void;
  /** Drawn while a pair copies. */
  progress?: DemoProgress;
}

/** One piece of the story: a step heading, a sentence, the equivalent command, or a table. */
export type DemoEvent =
  | {kind: 'title'; dir: string}
  | {kind: 'step'; number: number; title: string}
  | {kind: 'say'; text: string}
  | {kind: 'command'; line: string}
  | {kind: 'site'; view: SiteView}
  | {kind: 'volumes'; site: string; volumes: VolumeRow[]}
  | {kind: 'pairs'; pairs: PairView[]}
  | {kind: 'hashes'; mvol: string; rvol: string; hashes: DemoHashes}
  | {kind: 'logStatus'; status: LogGroupStatus}
  | {kind: 'marks'; list: MarkList}
  | {kind: 'compare'; reference: DemoHashLine; others: DemoHashLine[]};

/** One line of a hash comparison: what was hashed, its SHA-256, and a remark. */
export interface DemoHashLine {
  label: string;
  sha256: string;
  note?: string;
}

export interface DemoHashes {
  /** SHA-256 of the whole M-VOL and R-VOL, read through the host I/O path. */
  mvol: string;
  rvol: string;
  match: boolean;
}

export interface DemoWrite {
  offset: number;
  length: number;
  chunk: number;
}

export interface DemoLoggedWrite extends DemoWrite {
  /** The log ID of the write record at the remote. */
  logId: number;
}

export interface DemoMark {
  markId: number;
  logId: number;
  app: string;
  time: string;
  /** The writes the application made just before this mark. */
  writes: DemoLoggedWrite[];
  /** SHA-256 of the whole M-VOL right after the mark, kept to check the restore. */
  mvolHash: string;
}

export interface DemoResult {
  /**
   * true when every check of the story held: hashes equal where they must be, 3 chunks
   * resynced, every write and mark in the log, and the image restored to the last good
   * mark equal to the M-VOL as it was at that mark.
   */
  ok: boolean;
  dir: string;
  kept: boolean;
  sites: {primary: SiteSummary; remote: SiteSummary};
  mvol: {ldev: number; capacity: number; dataBytes: number; allocatedBytes: number};
  rvol: {ldev: number; capacity: number};
  pair: {number: number; chunkSize: number; chunks: number};
  create: {state: PairState; copiedBytes: number; holeBytes: number; ms: number};
  pairWrites: {writes: DemoWrite[]; hashes: DemoHashes};
  suspend: {state: PairState; writes: DemoWrite[]; dirtyChunks: number; hashes: DemoHashes};
  resync: {state: PairState; copiedBytes: number; copiedChunks: number; hashes: DemoHashes; ms: number};
  /** Log start: the pool volume that became the log, and the pair's state afterwards (PSUS). */
  log: {group: number; poolLdev: number; logVolumes: number[]; pairState: PairState; records: number; marks: number; usedBytes: number};
  /** The mark IDs issued, in order (the host registry's numbering). */
  markIds: number[];
  marks: DemoMark[];
  /** Writes after the last mark, as if the primary were failing. */
  garbage: {writes: DemoLoggedWrite[]; mvolHash: string};
  restore: {
    markId: number;
    /** The new image file at the remote site. */
    file: string;
    /** Write records replayed onto the base (those before the mark). */
    records: number;
    bytes: number;
    sha256: string;
    /** The M-VOL's SHA-256 kept when the mark was issued. */
    expected: string;
    restoredHashMatches: boolean;
    differsFromCurrentMvol: boolean;
    ms: number;
  };
  ms: number;
}

/** A reproducible stand-in for real data (xorshift32), so the hashes are the same on every run. */
function sampleData(length: number, seed: number): Buffer {
  const words = new Uint32Array(length / 4);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return Buffer.from(words.buffer);
}

function volumeHash(site: Site, ldev: number, capacity: number): string {
  const hash = crypto.createHash('sha256');
  for (let offset = 0; offset < capacity; offset += HASH_PIECE) {
    hash.update(hostRead(site, ldev, offset, Math.min(HASH_PIECE, capacity - offset)));
  }
  return hash.digest('hex');
}


/** An offset as an administrator would type it: 2M or 2056K rather than 2097152 or 2105344. */
function offsetText(offset: number): string {
  if (offset > 0 && offset % MIB === 0) return `${offset / MIB}M`;
  return offset > 0 && offset % 1024 === 0 ? `${offset / 1024}K` : String(offset);
}

/** What a failing controller might write: not random, but plainly not the application's data. */
function garbageData(length: number): Buffer {
  return Buffer.alloc(length, 'garbage!');
}

/** Picks the directory and says how to clean it up. */
function workspace(dir: string | undefined): {root: string; cleanup: () => void} {
  if (dir === undefined) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'marklog-demo-'));
    return {root, cleanup: () => fs.rmSync(root, {recursive: true, force: true})};
  }
  const root = path.resolve(dir);
  const existed = fs.existsSync(root);
  if (existed && (!fs.statSync(root).isDirectory() || fs.readdirSync(root).length > 0)) {
    throw new InvalidArgumentError(`${dir} is not an empty directory; the demo builds its sites in a new or empty one`);
  }
  fs.mkdirSync(root, {recursive: true, mode: 0o700});
  const cleanup = existed
    ? () => { for (const name of fs.readdirSync(root)) fs.rmSync(path.join(root, name), {recursive: true, force: true}); }
    : () => fs.rmSync(root, {recursive: true, force: true});
  return {root, cleanup};
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const started = performance.now();
  const emit = options.onEvent ?? (() => {});
  const say = (text: string) => emit({kind: 'say', text});
  const command = (line: string) => emit({kind: 'command', line});
  const {root, cleanup} = workspace(options.dir);
  const opened: Site[] = [];
  try {
    emit({kind: 'title', dir: root});

    emit({kind: 'step', number: 1, title: 'Two storage systems'});
    const primarySummary = initSite({dir: path.join(root, 'tokyo'), role: 'primary'});
    const remoteSummary = initSite({dir: path.join(root, 'osaka'), role: 'remote'});
    command('marklog site init $DEMO/tokyo --role primary');
    command('marklog site init $DEMO/osaka --role remote');
    say('tokyo is the primary site: the production host writes there. osaka is the remote site: it keeps the copies (R-VOLs).');
    const primary = Site.open(primarySummary.dir);
    const remote = Site.open(remoteSummary.dir);
    opened.push(primary, remote);

    emit({kind: 'step', number: 2, title: 'Link them'});
    await linkSites(primary.dir, remote.dir);
    command('marklog site link --site $DEMO/tokyo --remote $DEMO/osaka');
    say('tokyo now replicates to osaka; every copy and replicated write travels over this link.');

    emit({kind: 'step', number: 3, title: 'Volumes'});
    const mvol = createVolume(primary, CAPACITY);
    command(`marklog volume create --site $DEMO/tokyo --size 256M     # LDEV ${mvol.ldev}, the M-VOL`);
    let dataBytes = 0;
    for (const [i, extent] of EXTENTS.entries()) {
      await hostWrite(primary, mvol.ldev, extent.offset, sampleData(extent.length, i + 1));
      dataBytes += extent.length;
    }
    command(`marklog write --site $DEMO/tokyo --vol ${mvol.ldev} --offset 40M --file data.bin   # and three more like it`);
    const rvol = createVolume(remote, CAPACITY);
    command(`marklog volume create --site $DEMO/osaka --size 256M     # LDEV ${rvol.ldev}, the R-VOL`);
    const mvolRow = listVolumes(primary).find(v => v.ldev === mvol.ldev)!;
    const allocatedBytes = fs.statSync(primary.path(mvolRow.image)).blocks * 512;
    say(`The host wrote ${formatBytes(dataBytes)} into the ${formatBytes(CAPACITY)} M-VOL in ${EXTENTS.length} places; `
      + `the rest was never written, so its image file holds only ${formatBytes(allocatedBytes)} on disk.`);
    emit({kind: 'site', view: showSite(primary.dir)});
    emit({kind: 'volumes', site: remoteSummary.name, volumes: listVolumes(remote)});

    emit({kind: 'step', number: 4, title: 'Pair create (Fig. 14)'});
    command(`marklog pair create --site $DEMO/tokyo --mvol ${mvol.ldev} --rvol ${rvol.ldev}`);
    say('Every bit of the new pair\'s bitmap is set; the copy walks it from the first chunk and clears each bit as the chunk lands at osaka.');
    const createStart = performance.now();
    const created = await createPair(primary, {mvol: mvol.ldev, rvol: rvol.ldev, onProgress: options.progress?.update});
    options.progress?.done();
    const createMs = Math.round(performance.now() - createStart);
    const [afterCreate] = displayPairs(primary, created.pair);
    say(`Pair ${created.pair} is ${created.state} after ${createMs} ms: ${formatBytes(created.copiedBytes)} of data copied`
      + (created.holeBytes > 0 ? `, ${formatBytes(created.holeBytes)} of holes zeroed at osaka without moving a byte.` : '.'));
    emit({kind: 'pairs', pairs: [afterCreate]});
    const chunkSize = afterCreate.chunkSize;
    const chunkOf = (offset: number) => Math.floor(offset / chunkSize);

    const check = (): DemoHashes => {
      const m = volumeHash(primary, mvol.ldev, CAPACITY);
      const r = volumeHash(remote, rvol.ldev, CAPACITY);
      const hashes = {mvol: m, rvol: r, match: m === r};
      emit({kind: 'hashes', mvol: `tokyo:${mvol.ldev}`, rvol: `osaka:${rvol.ldev}`, hashes});
      return hashes;
    };
    const hostWrites = async (writes: {offset: number; length: number}[], seed: number): Promise<DemoWrite[]> => {
      const done: DemoWrite[] = [];
      for (const [i, w] of writes.entries()) {
        await hostWrite(primary, mvol.ldev, w.offset, sampleData(w.length, seed + i));
        done.push({...w, chunk: chunkOf(w.offset)});
      }
      return done;
    };

    emit({kind: 'step', number: 5, title: 'Host writes while the pair is in PAIR state'});
    const pairWrites = await hostWrites(PAIR_WRITES, 100);
    command(`marklog write --site $DEMO/tokyo --vol ${mvol.ldev} --offset ${PAIR_WRITES[0].offset} --file block.bin`);
    say(`${pairWrites.length} writes; each one reached the R-VOL at osaka before it returned. Both volumes read back identical:`);
    const pairHashes = check();

    emit({kind: 'step', number: 6, title: 'Suspend, then three writes'});
    const suspended = await suspendPair(primary, created.pair);
    command(`marklog pair suspend --site $DEMO/tokyo --pair ${created.pair}`);
    say(`Pair ${created.pair} went ${suspended.previous} → ${suspended.state}: writes stay at tokyo and only set a bit in the bitmap.`);
    const suspendedWrites = await hostWrites(SUSPENDED_WRITES, 200);
    for (const w of suspendedWrites) say(`  wrote ${formatBytes(w.length)} at offset ${w.offset} (chunk ${w.chunk})`);
    const [afterSuspend] = displayPairs(primary, created.pair);
    command(`marklog pair display --site $DEMO/tokyo --pair ${created.pair}`);
    emit({kind: 'pairs', pairs: [afterSuspend]});
    say(`${afterSuspend.dirtyChunks} dirty chunks; osaka still holds the image as it was at the suspend, so the volumes now differ:`);
    const suspendHashes = check();

    emit({kind: 'step', number: 7, title: 'Resync'});
    command(`marklog pair resync --site $DEMO/tokyo --pair ${created.pair}`);
    const resyncStart = performance.now();
    const resynced = await resyncPair(primary, created.pair, options.progress?.update);
    options.progress?.done();
    const resyncMs = Math.round(performance.now() - resyncStart);
    const copiedChunks = resynced.copiedBytes / chunkSize;
    const [afterResync] = displayPairs(primary, created.pair);
    say(`Only the marked chunks travelled: ${copiedChunks} of ${afterResync.chunks} (${formatBytes(resynced.copiedBytes)}) in ${resyncMs} ms, `
      + `and pair ${created.pair} is ${resynced.state} again.`);
    emit({kind: 'pairs', pairs: [afterResync]});
    const resyncHashes = check();

    /** Commands with their comments lined up, as an administrator would paste them into a runbook. */
    const commands = (lines: [string, string][]) => {
      const width = Math.max(...lines.map(([line]) => line.length));
      for (const [line, comment] of lines) command(`${line.padEnd(width)}   # ${comment}`);
    };
    const warn = (warnings: string[]) => { for (const warning of warnings) say(`warning: ${warning}`); };
    const loggedWrites = async (writes: {offset: number; length: number}[], data: (length: number, i: number) => Buffer): Promise<DemoLoggedWrite[]> => {
      const done: DemoLoggedWrite[] = [];
      for (const [i, w] of writes.entries()) {
        const written = await hostWrite(primary, mvol.ldev, w.offset, data(w.length, i));
        warn(written.warnings);
        done.push({...w, chunk: chunkOf(w.offset), logId: written.logged[0]?.logId ?? 0});
      }
      return done;
    };
    const mvolHash = () => volumeHash(primary, mvol.ldev, CAPACITY);
    const short = (hash: string) => `${hash.slice(0, 16)}…`;
    const logIds = (writes: DemoLoggedWrite[]) => (writes.length === 1 ? `log ID ${writes[0].logId}` : `log IDs ${writes[0].logId}–${writes.at(-1)!.logId}`);

    emit({kind: 'step', number: 8, title: 'A log for the pair (Figs. 16, 17)'});
    const pool = createVolume(remote, POOL_CAPACITY, true);
    const logStarted = await startLogging(primary, {pairs: [created.pair]});
    commands([
      [`marklog volume create --site $DEMO/osaka --size ${POOL_CAPACITY / MIB}M --pool`, `LDEV ${pool.ldev}, a spare in osaka's pool`],
      [`marklog log start --site $DEMO/tokyo --pairs ${created.pair}`, `log group ${logStarted.group}`],
    ]);
    const [afterLogStart] = displayPairs(primary, created.pair);
    say(`osaka took LDEV ${logStarted.logVolumes.join(', ')} from its pool as the log volume of log group ${logStarted.group}. `
      + `Pair ${created.pair} went PAIR → ${afterLogStart.state}: the R-VOL osaka:${rvol.ldev} is now frozen as the base image, `
      + 'and from here on every host write is also appended to the log at osaka before `write` returns.');

    emit({kind: 'step', number: 9, title: 'The application works; marks record its consistent points (Figs. 18–20)'});
    const marks: DemoMark[] = [];
    for (const [n, save] of SAVES.entries()) {
      const writes = await loggedWrites(save.writes, (length, i) => sampleData(length, 300 + 10 * n + i));
      const mark = await issueMark(primary, {app: save.app});
      warn(mark.warnings);
      const hash = mvolHash();
      marks.push({markId: mark.markId, logId: mark.logId, app: mark.app, time: mark.time, writes, mvolHash: hash});
      say(`${n === 0 ? 'The application saves version 1 of its data' : `It saves version ${n + 1}, partly over version ${n}`}: `
        + `${writes.length} writes, then a mark that says "consistent here".`);
      commands([
        ...writes.map((w, i): [string, string] => [`marklog write --site $DEMO/tokyo --vol ${mvol.ldev} --offset ${offsetText(w.offset)} --file v${n + 1}-part${i + 1}.bin`,
          `${formatBytes(w.length)}, log ID ${w.logId}`]),
        [`marklog mark --site $DEMO/tokyo --app "${save.app}"`, `prints ${mark.markId} (log ID ${mark.logId})`],
      ]);
      say(`M-VOL at mark ${mark.markId}: sha256 ${short(hash)} (the demo keeps it to check the restore against)`);
    }
    const lastGood = marks[RESTORE_MARK_INDEX];
    const garbageWrites = await loggedWrites(GARBAGE_WRITES, length => garbageData(length));
    const garbageHash = mvolHash();
    say(`Then the primary starts failing and writes garbage in ${garbageWrites.length} places, over version ${SAVES.length}'s data too. `
      + `The log takes these writes like any other (${logIds(garbageWrites)}), after mark ${lastGood.markId}; no mark follows them.`);
    for (const w of garbageWrites) say(`  garbage: ${formatBytes(w.length)} at offset ${offsetText(w.offset)} (log ID ${w.logId})`);

    emit({kind: 'step', number: 10, title: 'What osaka holds'});
    command(`marklog log status --site $DEMO/osaka --group ${logStarted.group}`);
    const [status] = logStatus(remote, logStarted.group).groups;
    emit({kind: 'logStatus', status});
    command(`marklog mark list --site $DEMO/tokyo --group ${logStarted.group}`);
    const [markList] = await listMarks(primary, logStarted.group);
    warn(markList.warnings);
    emit({kind: 'marks', list: markList});
    const loggedWriteCount = marks.reduce((n, m) => n + m.writes.length, 0) + garbageWrites.length;
    say(`${status.usage.records} records: ${loggedWriteCount} writes and ${status.markIds.marks} marks. `
      + 'Both marks are in the host\'s registry and in the remote log, so either can be restored.');

    emit({kind: 'step', number: 11, title: `Restore to mark ${lastGood.markId}, the last good one (Fig. 23)`});
    const restoreDir = path.join(root, 'restored');
    fs.mkdirSync(restoreDir, {recursive: true});
    const restoreFile = path.join(restoreDir, `app-at-mark-${lastGood.markId}.img`);
    const restoreLabel = path.relative(root, restoreFile);
    command(`marklog restore --site $DEMO/osaka --group ${logStarted.group} --mark ${lastGood.markId} --rvol ${rvol.ldev} --to $DEMO/${restoreLabel}`);
    const restoreStart = performance.now();
    const restored = await restoreToMark(remote, {group: logStarted.group, markId: lastGood.markId, rvol: rvol.ldev, target: {kind: 'file', path: restoreFile}});
    const restoreMs = Math.round(performance.now() - restoreStart);
    const [afterRestore] = logStatus(remote, logStarted.group).groups;
    const logKept = afterRestore.mode === 'LOG' && afterRestore.usage.records === status.usage.records && afterRestore.markIds.marks === status.markIds.marks;
    say(`osaka built a new image file from the base (R-VOL osaka:${rvol.ldev}) and the ${restored.records} write records before mark ${restored.markId} `
      + `(${formatBytes(restored.bytes)}) in ${restoreMs} ms, without touching tokyo. The ${garbageWrites.length} garbage writes after the mark `
      + 'were not replayed; the R-VOL, the log and the tables are unchanged, so every mark stays restorable.');
    const restoredHash = sha256File(restoreFile);
    const restoredHashMatches = restoredHash === lastGood.mvolHash;
    const differsFromCurrentMvol = restoredHash !== garbageHash;
    emit({
      kind: 'compare',
      reference: {label: `M-VOL tokyo:${mvol.ldev} at mark ${lastGood.markId}`, sha256: lastGood.mvolHash, note: 'kept when the mark was issued'},
      others: [
        {label: `$DEMO/${restoreLabel}`, sha256: restoredHash, note: 'restored at osaka'},
        {label: `M-VOL tokyo:${mvol.ldev} now`, sha256: garbageHash, note: 'with the garbage'},
      ],
    });
    say(restoredHashMatches && differsFromCurrentMvol
      ? `The restored image is the M-VOL exactly as it was at mark ${lastGood.markId}, and not the damaged volume tokyo holds now.`
      : `The restored image does not match what the M-VOL held at mark ${lastGood.markId}: a check failed.`);

    const markIds = marks.map(m => m.markId);
    const listed = markList.marks.filter(m => markIds.includes(m.markId) && m.host === true && m.remote === true);
    const logWritesBefore = marks.slice(0, RESTORE_MARK_INDEX + 1).reduce((n, m) => n + m.writes.length, 0);
    const ok = created.state === 'PAIR' && pairHashes.match && !suspendHashes.match && afterSuspend.dirtyChunks === SUSPENDED_WRITES.length
      && resynced.state === 'PAIR' && copiedChunks === SUSPENDED_WRITES.length && resyncHashes.match
      && afterLogStart.state === 'PSUS' && logStarted.logVolumes.includes(pool.ldev)
      && markIds.length === SAVES.length && markIds.every((id, i) => i === 0 || id > markIds[i - 1]) && listed.length === markIds.length
      && status.usage.records === loggedWriteCount + marks.length && status.markIds.marks === marks.length
      && new Set([...marks.map(m => m.mvolHash), garbageHash]).size === marks.length + 1
      && restored.markId === lastGood.markId && restored.records === logWritesBefore && logKept
      && restoredHashMatches && differsFromCurrentMvol;
    return {
      ok,
      dir: root,
      kept: options.keep === true,
      sites: {primary: primarySummary, remote: remoteSummary},
      mvol: {ldev: mvol.ldev, capacity: CAPACITY, dataBytes, allocatedBytes},
      rvol: {ldev: rvol.ldev, capacity: rvol.capacity},
      pair: {number: created.pair, chunkSize, chunks: afterCreate.chunks},
      create: {state: created.state, copiedBytes: created.copiedBytes, holeBytes: created.holeBytes, ms: createMs},
      pairWrites: {writes: pairWrites, hashes: pairHashes},
      suspend: {state: suspended.state, writes: suspendedWrites, dirtyChunks: afterSuspend.dirtyChunks, hashes: suspendHashes},
      resync: {state: resynced.state, copiedBytes: resynced.copiedBytes, copiedChunks, hashes: resyncHashes, ms: resyncMs},
      log: {
        group: logStarted.group, poolLdev: pool.ldev, logVolumes: logStarted.logVolumes, pairState: afterLogStart.state,
        records: status.usage.records, marks: status.markIds.marks, usedBytes: status.usage.used,
      },
      markIds,
      marks,
      garbage: {writes: garbageWrites, mvolHash: garbageHash},
      restore: {
        markId: restored.markId, file: restoreFile, records: restored.records, bytes: restored.bytes, sha256: restoredHash,
        expected: lastGood.mvolHash, restoredHashMatches, differsFromCurrentMvol, ms: restoreMs,
      },
      ms: Math.round(performance.now() - started),
    };
  } finally {
    for (const site of opened) {
      closeLink(site);
      site.close();
    }
    if (!options.keep) cleanup();
  }
}
