// The copy behind pair create (Fig. 14) and resync: walk the bitmap from the copy
// pointer, send each dirty chunk to the R-VOL, clear its bit, advance the pointer.
// Batch by batch, so host writes interleave (Fig. 15) and an interrupted copy
// resumes from the persisted pointer. Within a batch a few runs of chunks are in
// flight on the link at once; a run's bits are cleared, and the pointer passes it,
// only once the remote acknowledged it and every run before it, and the batch ends
// only when all it sent are answered. No site lock is held while an answer is
// awaited: each run in flight holds an activity-log slot instead (copyBatch).
import {MarklogError, TakenOverError} from '../errors.js';
import {linkOf} from '../site/link-opener.js';
import {beginWrites, endWrites, repairInflight} from '../io/inflight.js';
import {PairBitmap} from './bitmap.js';
import {hookPoint} from '../util/test-hooks.js';
import type {Site} from '../site/site.js';
import type {SiteLink} from '../site/link.js';
import type {PairRow} from '../site/tables.js';
import type {VolumeImage} from '../volume/image.js';

/** How long one batch may hold the site lock before host writes get their turn. */
const BATCH_MS = 50;
/** The most chunks sent to the R-VOL in one piece. */
const RUN_CHUNKS = 64;
/** The most runs sent and not yet acknowledged. */
const WINDOW = 4;
/** The most chunks of holes zeroed in one call: a run's slot names its region, which a repair reads back. */
const HOLE_RUN_CHUNKS = 1024;

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
    let finished: boolean;
    try {
      finished = await copyBatch(site, pairNumber, result);
    } catch (error) {
      site.lock.run(() => stopCopy(site, pairNumber, error));
      throw error;
    }
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
  /** Its activity-log slot: held until the run is acknowledged, so host writes to the site wait for it. */
  slots: number[];
  answer: Promise<void>;
}

/** Where a batch's walk of the bitmap stands, between two holds of the lock. */
interface Walk {
  mvol: number;
  image: VolumeImage;
  link: SiteLink;
  bitmap: PairBitmap;
  rvol: number;
  /** The next chunk to look at. */
  chunk: number;
  window: Sent[];
}

/**
 * Copies chunks for up to BATCH_MS; true when the pair left COPY. Runs are chosen
 * and sent under the lock, and each holds an activity-log slot naming its region
 * until the remote acknowledged it: a host write (any process) waits for those
 * (inflight.ts) as for another writer's, so the chunks cannot change under the copy
 * while the lock is let go for the answers. The lock is taken again for each answer,
 * to clear the run's bits and move the pointer past it.
 */
async function copyBatch(site: Site, pairNumber: number, result: CopyResult): Promise<boolean> {
  const walk = await site.lock.runAsync(async () => {
    // After every write another live process has in flight: the chunks read now hold them.
    await repairInflight(site);
    const tables = site.tables();
    const pair = site.pair(tables, pairNumber);
    if (pair.state !== 'COPY') {
      result.state = pair.state;
      return undefined;
    }
    const bitmap = PairBitmap.open(site.path(pair.bitmap));
    const walk: Walk = {mvol: pair.mvol, image: site.image(site.volume(tables, pair.mvol)), link: await linkOf(site, tables), bitmap,
      rvol: pair.rvol.ldev, chunk: bitmap.copyPointer, window: []};
    try {
      while (walk.window.length < WINDOW && sendNext(site, walk));
    } catch (error) {
      await abandon(site, walk);
      throw error;
    }
    return walk;
  });
  if (!walk) return true;
  hookPoint('copy:runs-sent');
  const deadline = Date.now() + BATCH_MS;
  try {
    while (walk.window.length > 0) {
      const sent = walk.window[0]!;
      // Awaited without the lock: host writes to the site wait for the slots, not for the lock.
      try {
        await sent.answer;
      } catch (error) {
        await abandon(site, walk);
        throw error;
      }
      site.lock.run(() => {
        walk.window.shift();
        for (let c = sent.from; c < sent.to; c++) walk.bitmap.clear(c);
        if (sent.hole) result.holeBytes += sent.bytes;
        else result.copiedBytes += sent.bytes;
        walk.bitmap.copyPointer = sent.to;
        endWrites(site, sent.slots);
        // Another process waiting, or the batch's time up: no more runs; those in flight are answered.
        if (Date.now() < deadline && !site.lock.othersWaiting()) sendNext(site, walk);
      });
    }
    return site.lock.run(() => {
      const {bitmap} = walk;
      if (bitmap.nextDirty(bitmap.copyPointer) < bitmap.chunkCount) return false;
      const tables = site.tables();
      const pair = site.pair(tables, pairNumber);
      if (pair.state !== 'COPY') {
        result.state = pair.state;
        return true;
      }
      bitmap.copyPointer = bitmap.chunkCount;
      pair.state = 'PAIR';
      site.save(tables);
      result.state = 'PAIR';
      return true;
    });
  } finally {
    walk.bitmap.close();
  }
}

/**
 * Sends the next run of dirty chunks from the walk's chunk on (under the lock), in
 * one piece (in-kernel where the link can), or zeroes a run of holes in one call;
 * false when no dirty chunk is left.
 */
function sendNext(site: Site, walk: Walk): boolean {
  const {bitmap, image} = walk;
  const chunk = bitmap.nextDirty(Math.max(walk.chunk, bitmap.copyPointer));
  if (chunk >= bitmap.chunkCount) return false;
  const start = chunk * bitmap.chunkSize;
  const dataAt = image.nextData(start);
  let to: number;
  let hole: boolean;
  if (dataAt >= start + bitmap.chunkLength(chunk)) {
    // A run of holes: zeroed on the R-VOL in one call, every dirty bit in it cleared once done.
    to = Math.min(chunk + HOLE_RUN_CHUNKS, dataAt >= bitmap.geometry.capacity ? bitmap.chunkCount : Math.floor(dataAt / bitmap.chunkSize));
    hole = true;
  } else {
    const holeAt = image.nextHole(start);
    to = chunk + 1;
    while (to < bitmap.chunkCount && to - chunk < RUN_CHUNKS && bitmap.isSet(to) && to * bitmap.chunkSize < holeAt) to++;
    hole = false;
  }
  const length = Math.min(to * bitmap.chunkSize, bitmap.geometry.capacity) - start;
  const slots = beginWrites(site, [{ldev: walk.mvol, offset: start, length}]);
  const answer = hole ? walk.link.zeroRvol(walk.rvol, start, length) : walk.link.writeRvolFrom(walk.rvol, start, length, image);
  // Awaited in turn; seen now, so a failure while an earlier run is awaited is not "unhandled".
  void answer.catch(() => {});
  walk.window.push({from: chunk, to, bytes: length, hole, slots, answer});
  walk.chunk = to;
  return true;
}

/** A copy that cannot go on: what is still in flight is answered, its slots cleared (its bits stay set: a resync sends it). */
async function abandon(site: Site, walk: Walk): Promise<void> {
  await Promise.allSettled(walk.window.map(sent => sent.answer));
  endWrites(site, walk.window.flatMap(sent => sent.slots));
  walk.window = [];
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
