// Failback (Fig. 22): after a takeover, copy back to the M-VOL every chunk
// marked in the remote-side bitmap or in the primary-side bitmap (the primary may
// have diverged), then swap roles so the former remote is the source. Run again
// on a reversed pair, it swaps back.
import {PairStateError} from '../errors.js';
import {linkOf} from '../site/link-opener.js';
import {PairBitmap} from '../pair/bitmap.js';
import type {CopyProgress} from '../pair/copy.js';
import type {HandedOver, SiteLink} from '../site/link.js';
import type {Site} from '../site/site.js';
import {hookPoint} from '../util/test-hooks.js';
import type {PairDirection, PairRow, Tables} from '../site/tables.js';

export interface FailbackResult {
  pair: number;
  direction: PairDirection;
  state: PairRow['state'];
  copiedBytes: number;
}

function claimOf(tables: Tables, pair: PairRow) {
  return {pair: pair.pair, primarySite: tables.site.id, mvol: pair.mvol};
}

export async function reverseResync(site: Site, pairNumber: number, onProgress?: (progress: CopyProgress) => void): Promise<FailbackResult> {
  const start = site.tables();
  const first = site.pair(start, pairNumber);
  if (first.direction === 'reverse') return swapBack(site, pairNumber);
  if (first.state === 'PAIR' || first.state === 'COPY') {
    throw new PairStateError(`pair ${pairNumber} is ${first.state}; a reverse resync follows a takeover (SSWS at the remote)`);
  }
  let copiedBytes = 0;
  // Catch up while the remote may still be taking writes; each pass takes what changed since the last.
  for (let pass = 0; pass < 100; pass++) {
    const taken = await site.lock.runAsync(async () => {
      const tables = site.tables();
      const pair = site.pair(tables, pairNumber);
      const link = await linkOf(site, tables);
      const handed = await link.readDirtyRanges(pair.rvol.ldev, claimOf(tables, pair));
      hookPoint('failback:ranges-read');
      copiedBytes += await copyBack(site, tables, pair, link, handed, onProgress);
      return handed.ranges.length;
    });
    if (taken === 0) break;
  }
  hookPoint('failback:before-direction');
  return site.updateAsync(async tables => {
    const pair = site.pair(tables, pairNumber);
    const link = await linkOf(site, tables);
    const last = await link.setDirection(pair.rvol.ldev, claimOf(tables, pair), 'reverse');
    hookPoint('failback:direction-set');
    copiedBytes += await copyBack(site, tables, pair, link, last, onProgress);
    pair.direction = 'reverse';
    pair.state = 'PAIR';
    pair.logGroup = null;
    return {pair: pairNumber, direction: 'reverse' as const, state: pair.state, copiedBytes};
  });
}

/**
 * Marks the remote's changes in the primary bitmap (the union) and makes that
 * durable before the remote may forget them; then copies every marked chunk
 * R-VOL → M-VOL, clearing each bit once its chunk has landed.
 */
async function copyBack(site: Site, tables: Tables, pair: PairRow, link: SiteLink, handed: HandedOver, onProgress?: (progress: CopyProgress) => void): Promise<number> {
  const bitmap = PairBitmap.open(site.path(pair.bitmap));
  const mvol = site.image(site.volume(tables, pair.mvol));
  let copied = 0;
  try {
    for (const range of handed.ranges) bitmap.markRange(range.offset, range.length);
    bitmap.flush();
    hookPoint('failback:ranges-persisted');
    await link.forgetDirtyRanges(pair.rvol.ldev, claimOf(tables, pair), handed.token);
    for (let chunk = bitmap.nextDirty(0); chunk < bitmap.chunkCount; chunk = bitmap.nextDirty(chunk + 1)) {
      const offset = chunk * bitmap.chunkSize;
      const length = bitmap.chunkLength(chunk);
      mvol.write(offset, await link.readRvol(pair.rvol.ldev, offset, length));
      bitmap.clear(chunk);
      copied += length;
      onProgress?.({pair: pair.pair, done: chunk + 1, total: bitmap.chunkCount, copiedBytes: copied});
    }
    bitmap.copyPointer = bitmap.chunkCount;
    mvol.syncAll();
  } finally {
    bitmap.close();
  }
  return copied;
}

function swapBack(site: Site, pairNumber: number): Promise<FailbackResult> {
  return site.updateAsync(async tables => {
    const pair = site.pair(tables, pairNumber);
    if (pair.state !== 'PAIR') throw new PairStateError(`pair ${pairNumber} is ${pair.state}; swap back needs the reversed pair in PAIR`);
    await (await linkOf(site, tables)).setDirection(pair.rvol.ldev, claimOf(tables, pair), 'forward');
    pair.direction = 'forward';
    return {pair: pairNumber, direction: 'forward' as const, state: pair.state, copiedBytes: 0};
  });
}
