// The copy behind pair create (Fig. 14) and resync: walk the bitmap from the copy
// pointer, send each dirty chunk to the R-VOL, clear its bit, advance the pointer.
// The site lock is taken per batch, so host writes interleave (Fig. 15) and an
// interrupted copy resumes from the persisted pointer. Within a batch a few runs of
// chunks are in flight on the link at once; a run's bits are cleared, and the
// pointer passes it, only once the remote acknowledged it and every run before it,
// and the batch ends only when all it sent are answered.
import {MarklogError, TakenOverError} from '../errors.js';
import {linkOf} from '../site/link-opener.js';
import {PairBitmap} from './bitmap.js';
import type {Site} from '../site/site.js';
import type {PairRow} from '../site/tables.js';

/** How long one batch may hold the site lock before host writes get their turn. */
const BATCH_MS = 50;
/** The most chunks sent to the R-VOL in one piece. */
const RUN_CHUNKS = 64;
/** The most runs sent and not yet acknowledged. */
const WINDOW = 4;

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

export async function runCopy(site: Site, pairNumber: number, onProgress?: (progress: CopyProgress) => void): Promise<CopyResult> {
  const result: CopyResult = {state: 'COPY', copiedBytes: 0, holeBytes: 0};
  for (;;) {
    site.lock.yieldToWaiters();
    const finished = await site.lock.runAsync(async () => {
      try {
        return await copyBatch(site, pairNumber, result);
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

/** A run of chunks sent to the R-VOL, not yet acknowledged. */
interface Sent {
  from: number;
  /** The chunk after its last. */
  to: number;
  bytes: number;
  /** Zeroed (holes of the M-VOL), not copied. */
  hole: boolean;
  answer: Promise<void>;
}

/** Copies chunks for up to BATCH_MS under the lock; true when the pair left COPY. */
async function copyBatch(site: Site, pairNumber: number, result: CopyResult): Promise<boolean> {
  const tables = site.tables();
  const pair = site.pair(tables, pairNumber);
  if (pair.state !== 'COPY') {
    result.state = pair.state;
    return true;
  }
  const image = site.image(site.volume(tables, pair.mvol));
  const link = await linkOf(site, tables);
  const bitmap = PairBitmap.open(site.path(pair.bitmap));
  const window: Sent[] = [];
  const send = (run: Omit<Sent, 'answer'>, answer: Promise<void>) => {
    // Awaited in turn below; seen now, so a failure while an earlier run is awaited is not "unhandled".
    void answer.catch(() => {});
    window.push({...run, answer});
  };
  /** The oldest run is on the R-VOL: its bits go, and the pointer passes it. */
  const acknowledge = async () => {
    const sent = window[0];
    await sent.answer;
    window.shift();
    for (let c = sent.from; c < sent.to; c++) bitmap.clear(c);
    if (sent.hole) result.holeBytes += sent.bytes;
    else result.copiedBytes += sent.bytes;
    bitmap.copyPointer = sent.to;
  };
  try {
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
          send({from: chunk, to: holeEnd, bytes: length, hole: true}, link.zeroRvol(pair.rvol.ldev, start, length));
          chunk = holeEnd;
        } else {
          // A run of dirty chunks with data, sent in one piece (in-kernel where the link can).
          const holeAt = image.nextHole(start);
          let end = chunk + 1;
          while (end < bitmap.chunkCount && end - chunk < RUN_CHUNKS && bitmap.isSet(end) && end * bitmap.chunkSize < holeAt) end++;
          const length = Math.min(end * bitmap.chunkSize, bitmap.geometry.capacity) - start;
          send({from: chunk, to: end, bytes: length, hole: false}, link.writeRvolFrom(pair.rvol.ldev, start, length, image));
          chunk = end;
        }
        if (window.length === WINDOW) await acknowledge();
      }
      while (window.length > 0) await acknowledge();
    } catch (error) {
      // What is still in flight is answered before the lock is let go; its bits stay set.
      await Promise.allSettled(window.map(sent => sent.answer));
      throw error;
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
