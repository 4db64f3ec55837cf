// `marklog demo`: a real two-site setup built with the library, step by step, as a
// story an administrator can follow. Every step calls the same functions the CLI
// commands call; the events let a caller show the story, the result is for --json.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {InvalidArgumentError} from '../errors.js';
import {hostRead, hostWrite} from '../io/host-io.js';
import {createPair} from '../pair/pair-create.js';
import {resyncPair, suspendPair} from '../pair/pair-control.js';
import {displayPairs, type PairView} from '../pair/pair-display.js';
import {closeLink} from '../site/connect.js';
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
  | {kind: 'hashes'; mvol: string; rvol: string; hashes: DemoHashes};

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

export interface DemoResult {
  /** true when every check of the story held: hashes equal where they must be, 3 chunks resynced. */
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

export function runDemo(options: DemoOptions = {}): DemoResult {
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
    linkSites(primary.dir, remote.dir);
    command('marklog site link --site $DEMO/tokyo --remote $DEMO/osaka');
    say('tokyo now replicates to osaka; every copy and replicated write travels over this link.');

    emit({kind: 'step', number: 3, title: 'Volumes'});
    const mvol = createVolume(primary, CAPACITY);
    command(`marklog volume create --site $DEMO/tokyo --size 256M     # LDEV ${mvol.ldev}, the M-VOL`);
    let dataBytes = 0;
    for (const [i, extent] of EXTENTS.entries()) {
      hostWrite(primary, mvol.ldev, extent.offset, sampleData(extent.length, i + 1));
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
    const created = createPair(primary, {mvol: mvol.ldev, rvol: rvol.ldev, onProgress: options.progress?.update});
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
    const hostWrites = (writes: {offset: number; length: number}[], seed: number): DemoWrite[] => writes.map((w, i) => {
      hostWrite(primary, mvol.ldev, w.offset, sampleData(w.length, seed + i));
      return {...w, chunk: chunkOf(w.offset)};
    });

    emit({kind: 'step', number: 5, title: 'Host writes while the pair is in PAIR state'});
    const pairWrites = hostWrites(PAIR_WRITES, 100);
    command(`marklog write --site $DEMO/tokyo --vol ${mvol.ldev} --offset ${PAIR_WRITES[0].offset} --file block.bin`);
    say(`${pairWrites.length} writes; each one reached the R-VOL at osaka before it returned. Both volumes read back identical:`);
    const pairHashes = check();

    emit({kind: 'step', number: 6, title: 'Suspend, then three writes'});
    const suspended = suspendPair(primary, created.pair);
    command(`marklog pair suspend --site $DEMO/tokyo --pair ${created.pair}`);
    say(`Pair ${created.pair} went ${suspended.previous} → ${suspended.state}: writes stay at tokyo and only set a bit in the bitmap.`);
    const suspendedWrites = hostWrites(SUSPENDED_WRITES, 200);
    for (const w of suspendedWrites) say(`  wrote ${formatBytes(w.length)} at offset ${w.offset} (chunk ${w.chunk})`);
    const [afterSuspend] = displayPairs(primary, created.pair);
    command(`marklog pair display --site $DEMO/tokyo --pair ${created.pair}`);
    emit({kind: 'pairs', pairs: [afterSuspend]});
    say(`${afterSuspend.dirtyChunks} dirty chunks; osaka still holds the image as it was at the suspend, so the volumes now differ:`);
    const suspendHashes = check();

    emit({kind: 'step', number: 7, title: 'Resync'});
    command(`marklog pair resync --site $DEMO/tokyo --pair ${created.pair}`);
    const resyncStart = performance.now();
    const resynced = resyncPair(primary, created.pair, options.progress?.update);
    options.progress?.done();
    const resyncMs = Math.round(performance.now() - resyncStart);
    const copiedChunks = resynced.copiedBytes / chunkSize;
    const [afterResync] = displayPairs(primary, created.pair);
    say(`Only the marked chunks travelled: ${copiedChunks} of ${afterResync.chunks} (${formatBytes(resynced.copiedBytes)}) in ${resyncMs} ms, `
      + `and pair ${created.pair} is ${resynced.state} again.`);
    emit({kind: 'pairs', pairs: [afterResync]});
    const resyncHashes = check();

    const ok = created.state === 'PAIR' && pairHashes.match && !suspendHashes.match && afterSuspend.dirtyChunks === SUSPENDED_WRITES.length
      && resynced.state === 'PAIR' && copiedChunks === SUSPENDED_WRITES.length && resyncHashes.match;
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
