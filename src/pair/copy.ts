// The copy behind pair create (Fig. 14) and resync: walk the bitmap from the copy
// pointer, send each dirty chunk to the R-VOL, clear its bit, advance the pointer.
// The site lock is taken per batch, so host writes interleave (Fig. 15) and an
// interrupted copy resumes from the persisted pointer.
import {MarklogError, TakenOverError} from '../errors.js';
import {linkOf} from '../site/connect.js';
import {PairBitmap} from './bitmap.js';
import type {Site} from '../site/site.js';
import type {PairRow} from '../site/tables.js';

/** How long one batch may hold the site lock before host writes get their turn. */
const BATCH_MS = 50;
/** The most chunks sent to the R-VOL in one piece. */
const RUN_CHUNKS = 64;

export interface CopyProgress {
  pair: number;
  /** Chunks the pointer has passed, of chunkCount. */
  done: number;
  total: number;
  copiedBytes: number;
}

export interface CopyResult {
  state: PairRow['state'];
  copiedBytes: number;
  /** Bytes of the M-VOL found to be holes and zeroed on the R-VOL without moving data. */
  holeBytes: number;
}

export function runCopy(site: Site, pairNumber: number, onProgress?: (progress: CopyProgress) => void): CopyResult {
  const result: CopyResult = {state: 'COPY', copiedBytes: 0, holeBytes: 0};
  for (;;) {
    site.lock.yieldToWaiters();
    const finished = site.lock.run(() => {
      try {
        return copyBatch(site, pairNumber, result);
      } catch (error) {
        stopCopy(site, pairNumber, error);
        throw error;
      }
    });
    if (finished) return result;
    if (onProgress) {
      const bitmap = PairBitmap.open(site.path(site.pair(site.tables(), pairNumber).bitmap));
      onProgress({pair: pairNumber, done: bitmap.copyPointer, total: bitmap.chunkCount, copiedBytes: result.copiedBytes});
      bitmap.close();
    }
  }
}

/** Copies chunks for up to BATCH_MS under the lock; true when the pair left COPY. */
function copyBatch(site: Site, pairNumber: number, result: CopyResult): boolean {
  const tables = site.tables();
  const pair = site.pair(tables, pairNumber);
  if (pair.state !== 'COPY') {
    result.state = pair.state;
    return true;
  }
  const image = site.image(site.volume(tables, pair.mvol));
  const link = linkOf(site, tables);
  const bitmap = PairBitmap.open(site.path(pair.bitmap));
  try {
    const deadline = Date.now() + BATCH_MS;
    let chunk = bitmap.copyPointer;
    while (chunk < bitmap.chunkCount && Date.now() < deadline) {
      chunk = bitmap.nextDirty(chunk);
      if (chunk >= bitmap.chunkCount) break;
      const start = chunk * bitmap.chunkSize;
      const dataAt = image.nextData(start);
      if (dataAt >= start + bitmap.chunkLength(chunk)) {
        // A run of holes: zero it on the R-VOL in one call, clear every dirty bit in it.
        const holeEnd = dataAt >= bitmap.geometry.capacity ? bitmap.chunkCount : Math.floor(dataAt / bitmap.chunkSize);
        const length = Math.min(holeEnd * bitmap.chunkSize, bitmap.geometry.capacity) - start;
        link.zeroRvol(pair.rvol.ldev, start, length);
        for (let c = chunk; c < holeEnd; c++) bitmap.clear(c);
        result.holeBytes += length;
        chunk = holeEnd;
      } else {
        // A run of dirty chunks with data, sent in one piece (in-kernel where the link can).
        const holeAt = image.nextHole(start);
        let end = chunk + 1;
        while (end < bitmap.chunkCount && end - chunk < RUN_CHUNKS && bitmap.isSet(end) && end * bitmap.chunkSize < holeAt) end++;
        const length = Math.min(end * bitmap.chunkSize, bitmap.geometry.capacity) - start;
        link.writeRvolFrom(pair.rvol.ldev, start, length, image);
        for (let c = chunk; c < end; c++) bitmap.clear(c);
        result.copiedBytes += length;
        chunk = end;
      }
      bitmap.copyPointer = chunk;
    }
    if (bitmap.nextDirty(bitmap.copyPointer) < bitmap.chunkCount) return false;
    bitmap.copyPointer = bitmap.chunkCount;
    pair.state = 'PAIR';
    site.save(tables);
    result.state = 'PAIR';
    return true;
  } finally {
    bitmap.close();
  }
}

/**
 * A copy that cannot go on leaves the pair suspended with its bits intact (a
 * resync finishes it): SSWS when the remote took the R-VOL over, PSUE otherwise.
 */
function stopCopy(site: Site, pairNumber: number, error: unknown): void {
  const tables = site.tables();
  const pair = tables.pairs.find(p => p.pair === pairNumber);
  if (!pair || pair.state !== 'COPY') return;
  if (error instanceof TakenOverError) {
    pair.state = 'SSWS';
    pair.logGroup = null;
  } else {
    pair.state = 'PSUE';
    pair.suspendedBy = error instanceof MarklogError ? error.code : 'IO_ERROR';
  }
  site.save(tables);
}
