// Failback (DESIGN §3.9): after a takeover, copy back to the M-VOL every chunk
// marked in the remote-side bitmap or in the primary-side bitmap (the primary may
// have diverged), then swap roles so the former remote is the source. Run again
// on a reversed pair, it swaps back.
import {PairStateError} from '../errors.js';
import {linkOf} from '../site/connect.js';
import {PairBitmap} from '../pair/bitmap.js';
import type {CopyProgress} from '../pair/copy.js';
import type {Site} from '../site/site.js';
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

export function reverseResync(site: Site, pairNumber: number, onProgress?: (progress: CopyProgress) => void): FailbackResult {
  const start = site.tables();
  const first = site.pair(start, pairNumber);
  if (first.direction === 'reverse') return swapBack(site, pairNumber);
  if (first.state === 'PAIR' || first.state === 'COPY') {
    throw new PairStateError(`pair ${pairNumber} is ${first.state}; a reverse resync follows a takeover (SSWS at the remote)`);
  }
  let copiedBytes = 0;
  // Catch up while the remote may still be taking writes; each pass takes what changed since the last.
  for (let pass = 0; pass < 100; pass++) {
    const taken = site.lock.run(() => {
      const tables = site.tables();
      const pair = site.pair(tables, pairNumber);
      const ranges = linkOf(site, tables).takeDirtyRanges(pair.rvol.ldev, claimOf(tables, pair));
      copiedBytes += copyBack(site, tables, pair, ranges, onProgress);
      return ranges.length;
    });
    if (taken === 0) break;
  }
  return site.update(tables => {
    const pair = site.pair(tables, pairNumber);
    const link = linkOf(site, tables);
    const last = link.setDirection(pair.rvol.ldev, claimOf(tables, pair), 'reverse');
    copiedBytes += copyBack(site, tables, pair, last, onProgress);
    pair.direction = 'reverse';
    pair.state = 'PAIR';
    pair.logGroup = null;
    return {pair: pairNumber, direction: 'reverse' as const, state: pair.state, copiedBytes};
  });
}

/** Marks the remote's changes in the primary bitmap (the union), then copies every marked chunk R-VOL → M-VOL. */
function copyBack(site: Site, tables: Tables, pair: PairRow, ranges: {offset: number; length: number}[], onProgress?: (progress: CopyProgress) => void): number {
  const bitmap = PairBitmap.open(site.path(pair.bitmap));
  const link = linkOf(site, tables);
  const mvol = site.image(site.volume(tables, pair.mvol));
  let copied = 0;
  try {
    for (const range of ranges) bitmap.markRange(range.offset, range.length);
    for (let chunk = bitmap.nextDirty(0); chunk < bitmap.chunkCount; chunk = bitmap.nextDirty(chunk + 1)) {
      const offset = chunk * bitmap.chunkSize;
      const length = bitmap.chunkLength(chunk);
      mvol.write(offset, link.readRvol(pair.rvol.ldev, offset, length));
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

function swapBack(site: Site, pairNumber: number): FailbackResult {
  return site.update(tables => {
    const pair = site.pair(tables, pairNumber);
    if (pair.state !== 'PAIR') throw new PairStateError(`pair ${pairNumber} is ${pair.state}; swap back needs the reversed pair in PAIR`);
    linkOf(site, tables).setDirection(pair.rvol.ldev, claimOf(tables, pair), 'forward');
    pair.direction = 'forward';
    return {pair: pairNumber, direction: 'forward' as const, state: pair.state, copiedBytes: 0};
  });
}
