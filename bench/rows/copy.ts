// Rows 4-6: pair create of a dense volume against `cp` of its image; pair create of
// a sparse volume and a resync of 1 % dirty chunks against that dense pair create.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {hostWrite} from '../../src/io/host-io.js';
import {createPair, DEFAULT_CHUNK_SIZE} from '../../src/pair/pair-create.js';
import {deletePair, resyncPair, suspendPair} from '../../src/pair/pair-control.js';
import {allocated, closeSites, fillImage, imageOf, randomPool, reopen, twoSites, volume, type Sites} from '../lib/fixtures.js';
import {now, pickDistinct, prng, runRounds, since, timed, timedAsync, type Contender} from '../lib/measure.js';
import {MiB} from '../lib/params.js';
import {makeRow, rates, series, type RowResult} from '../lib/result.js';
import type {Context} from '../lib/context.js';

interface Copied {
  pair: number;
  copiedBytes: number;
  holeBytes: number;
}

/** One M-VOL/R-VOL couple that is paired afresh for every repetition. */
class Couple {
  last: Copied | undefined;

  constructor(private readonly sites: Sites, readonly mvol: number, readonly rvol: number, readonly capacity: number) {}

  /** Untimed: delete the previous pair and make the R-VOL an empty sparse image again. */
  async reset(): Promise<void> {
    if (this.last) await deletePair(this.sites.primary, this.last.pair);
    this.last = undefined;
    reopen(this.sites);
    const image = imageOf(this.sites.remote, this.rvol);
    fs.truncateSync(image, 0);
    fs.truncateSync(image, this.capacity);
  }

  create(): Promise<number> {
    return timedAsync(async () => {
      const result = await createPair(this.sites.primary, {mvol: this.mvol, rvol: this.rvol});
      if (result.state !== 'PAIR') throw new Error(`pair ${result.pair} is ${result.state} after create`);
      this.last = {pair: result.pair, copiedBytes: result.copiedBytes, holeBytes: result.holeBytes};
    });
  }
}

export async function copyRows(ctx: Context): Promise<RowResult[]> {
  const p = ctx.params;
  const rows: RowResult[] = [];
  const started = now();
  const capacity = p.copyMib * MiB;
  const chunkCount = Math.ceil(capacity / DEFAULT_CHUNK_SIZE);
  const sites = await twoSites(ctx.root, 'copy');
  const pool = randomPool(32 * MiB);
  const denseMvol = volume(sites.primary, capacity);
  const denseImage = imageOf(sites.primary, denseMvol);
  fillImage(denseImage, capacity, pool);
  const dense = new Couple(sites, denseMvol, volume(sites.remote, capacity), capacity);
  const cpTarget = path.join(sites.dir, 'cp-target.img');

  const contenders: Record<string, Contender> = {
    // The baseline of rows 5 and 6 as well as the figure of row 4.
    dense: {prepare: () => dense.reset(), work: () => dense.create()},
  };
  if (ctx.wants('pair-create')) {
    contenders.cp = {
      prepare: () => fs.rmSync(cpTarget, {force: true}),
      work: () => timed(() => {
        const cp = spawnSync('cp', [denseImage, cpTarget], {stdio: 'ignore'});
        if (cp.status !== 0) throw new Error(`cp exited ${cp.status}`);
      }),
    };
  }
  const every = Math.max(1, Math.round(100 / (100 - p.holePct)));
  let sparse: Couple | undefined;
  let sparseData = 0;
  if (ctx.wants('pair-create-sparse')) {
    const sparseMvol = volume(sites.primary, capacity);
    sparseData = fillImage(imageOf(sites.primary, sparseMvol), capacity, pool, mib => mib % every === 0);
    const couple = sparse = new Couple(sites, sparseMvol, volume(sites.remote, capacity), capacity);
    contenders.sparse = {prepare: () => couple.reset(), work: () => couple.create()};
  }
  // The resync runs on a second pair of the same dense M-VOL (DESIGN §3.5: an
  // M-VOL may have several R-VOLs), so it does not depend on the order of a round.
  const dirty = Math.max(1, Math.round(chunkCount * p.dirtyPct / 100));
  let resync: {pair: number; rvol: number; copied: number} | undefined;
  if (ctx.wants('resync')) {
    const rvol = volume(sites.remote, capacity);
    const {pair} = await createPair(sites.primary, {mvol: denseMvol, rvol});
    const state = resync = {pair, rvol, copied: 0};
    const random = prng(0xd1e7);
    contenders.resync = {
      prepare: async () => {
        await suspendPair(sites.primary, pair);
        for (const chunk of pickDistinct(chunkCount, dirty, random)) {
          const at = Math.floor(random() * (pool.length - DEFAULT_CHUNK_SIZE));
          await hostWrite(sites.primary, denseMvol, chunk * DEFAULT_CHUNK_SIZE, pool.subarray(at, at + DEFAULT_CHUNK_SIZE));
        }
      },
      work: () => timedAsync(async () => {
        const result = await resyncPair(sites.primary, pair);
        if (result.state !== 'PAIR') throw new Error(`pair ${pair} is ${result.state} after resync`);
        state.copied = result.copiedBytes;
      }),
    };
  }
  ctx.log('copy')(`fixtures ready in ${since(started).toFixed(1)} s`);
  const t = await runRounds({warmup: p.warmup, repeat: p.repeat, settle: p.settle, log: ctx.log('copy')}, contenders);
  fs.rmSync(cpTarget, {force: true});
  const denseCreate = series(`pair create of the dense ${p.copyMib} MiB volume (same rounds)`, t.dense);
  const same = (rvol: number) => spawnSync('cmp', ['-s', denseImage, imageOf(sites.remote, rvol)]).status === 0;
  const wall = since(started);
  if (ctx.wants('pair-create')) {
    rows.push(makeRow({
      n: 4, name: 'pair-create', figure: `pair create, dense ${p.copyMib} MiB`, unit: 'MiB/s',
      marklog: series(`createPair of a dense ${p.copyMib} MiB M-VOL`, rates(p.copyMib, t.dense)),
      baseline: series('cp of the image file', rates(p.copyMib, t.cp)),
      target: {op: '>=', value: 0.8},
      detail: {copiedBytes: dense.last?.copiedBytes, chunkSize: DEFAULT_CHUNK_SIZE, note: 'rows 4-6 are measured in the same rounds, order rotating'},
    }, wall));
  }
  if (sparse) {
    rows.push(makeRow({
      n: 5, name: 'pair-create-sparse', figure: `pair create, ${p.copyMib} MiB with ${p.holePct} % holes`, unit: 's',
      marklog: series(`createPair of a ${p.copyMib} MiB M-VOL, 1 MiB of data every ${every} MiB`, t.sparse),
      baseline: denseCreate,
      target: {op: '<=', value: 0.2},
      detail: {dataBytes: sparseData, holeFraction: 1 - sparseData / capacity, copiedBytes: sparse.last?.copiedBytes, holeBytes: sparse.last?.holeBytes,
        rvolAllocatedBytes: allocated(imageOf(sites.remote, sparse.rvol))},
    }, wall));
  }
  if (resync) {
    rows.push(makeRow({
      n: 6, name: 'resync', figure: `resync, ${p.dirtyPct} % of chunks dirty`, unit: 's',
      marklog: series(`resyncPair with ${dirty} of ${chunkCount} chunks dirty`, t.resync),
      baseline: denseCreate,
      target: {op: '<=', value: 0.05},
      detail: {dirtyChunks: dirty, chunkCount, copiedBytes: resync.copied, rvolIdenticalAfterResync: same(resync.rvol)},
    }, wall));
  }
  closeSites(sites);
  ctx.cleanup(sites.dir);
  return rows;
}
