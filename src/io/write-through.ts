// The write path below host I/O (patent Fig. 15; docs/ARCHITECTURE.md): the data lands
// on the volume, then each pair whose M-VOL it is decides where else it goes.
// Writes come in batches (one host write is a batch of one; the pipeline of
// write-pipeline.ts sends many): all of a batch reach the M-VOL first, in order, then
// each pair takes them in the same order, so the M-VOL's order, each R-VOL's and
// the log's are one order. A logging pair's writes of a batch are one append; a
// replicating pair's are all sent before the first answer is awaited, so a network
// link has them in flight together (the link does them in the order sent), and the
// calls of every pair are sent before any pair's answers are awaited.
// Callers hold the site lock while the calls are sent. What the answers leave to
// record (the bits of writes that did not arrive, pairs fallen to PSUE or SSWS) is
// recorded in one step under the lock: the one the caller holds across the awaits
// (a one-shot command), or one taken again for it (the pipeline lets the lock go
// once its calls are sent, and waits for answers without it). The tables passed in
// are only looked at (they may be the site's frozen view).
import {MarklogError, TakenOverError} from '../errors.js';
import {linkOf, peerLinkOf} from '../site/link-opener.js';
import {PairBitmap} from '../pair/bitmap.js';
import {GapNotes, gapOf} from '../log/log-gap.js';
import type {Site} from '../site/site.js';
import type {PairRow, Tables, VolumeRow} from '../site/tables.js';

export interface VolumeWrite {
  offset: number;
  data: Uint8Array;
}

export interface WriteOutcome {
  /** Pairs that dropped to PSUE because their R-VOL or log could not be written, and why. */
  suspendedByError: {pair: number; reason: string}[];
  /** Pairs whose R-VOL was taken over at the remote (SSWS): the write is tracked for failback. */
  takenOver: number[];
  /**
   * The first write of the batch that found a pair taken over (each later one did
   * too), or the batch's length when none did.
   */
  takenOverFrom: number;
  /** Log records written, one per write and logging pair; `write` is the write's index in the batch. */
  logged: {group: number; logId: number; write: number}[];
  warnings: string[];
}

/** New values for pair rows, saved once the batch has gone everywhere it could, and the bits of writes that did not arrive. */
type PairChanges = Map<number, Partial<PairRow>> & {gaps?: GapNotes; unsent?: {bitmap: string; writes: readonly VolumeWrite[]}[]};

/** Writes that did not reach where a bitmap tracks for: their bits are set with the other changes. */
function noteUnsent(changes: PairChanges, bitmap: string, writes: readonly VolumeWrite[]): void {
  if (writes.length > 0) (changes.unsent ??= []).push({bitmap, writes});
}

export interface ForwardOptions {
  /**
   * Called once every call the batch makes has been handed to its link, before any
   * answer is awaited: a caller that keeps several batches in flight
   * (write-pipeline.ts) sends the next one only then, so each link has them in the
   * order written, and may let the site lock go.
   */
  issued?: () => void;
  /** Runs the recording of what the answers left under the site lock; by default under the hold the caller kept. */
  underLock?: (record: () => void) => Promise<void>;
}

function gapNotes(changes: PairChanges): GapNotes {
  return (changes.gaps ??= new GapNotes());
}

/** A write of a logging pair that made no log record: the group's first such write is its gap. */
function noteUnlogged(tables: Tables, pair: PairRow, reason: string, changes: PairChanges): void {
  if (!gapOf(tables, pair.logGroup!)) gapNotes(changes).unlogged(tables, pair, reason);
}

export function writeThrough(site: Site, tables: Tables, volume: VolumeRow, offset: number, data: Uint8Array): Promise<WriteOutcome> {
  return writeThroughBatch(site, tables, volume, [{offset, data}]);
}

/** Writes the batch to the volume, then sends it where each pair's state says. */
export async function writeThroughBatch(site: Site, tables: Tables, volume: VolumeRow, writes: readonly VolumeWrite[]): Promise<WriteOutcome> {
  const image = site.image(volume);
  for (const write of writes) image.write(write.offset, write.data);
  return forwardBatch(site, tables, volume, writes);
}

/** Sends writes already on the volume to its pairs (the second half of writeThroughBatch, for a caller that wrote the volume itself). */
export async function forwardBatch(site: Site, tables: Tables, volume: VolumeRow, writes: readonly VolumeWrite[], options: ForwardOptions = {}): Promise<WriteOutcome> {
  const outcome: WriteOutcome = {suspendedByError: [], takenOver: [], takenOverFrom: writes.length, logged: [], warnings: []};
  const changes: PairChanges = new Map<number, Partial<PairRow>>();
  // Each place the writes go starts once the one before has sent its calls (the order they
  // always went in), and the answers of all of them are awaited together.
  const answers: Promise<unknown>[] = [];
  const start = async (send: (sent: () => void) => Promise<unknown>): Promise<void> => {
    let sent!: () => void;
    const handedOver = new Promise<void>(resolve => (sent = resolve));
    const answer = send(sent);
    answer.then(sent, sent);
    answers.push(answer);
    await handedOver;
  };
  if (volume.rvolOf?.takeover) await start(sent => followTakeover(site, tables, volume, writes, outcome, changes, sent));
  const failures: (string | undefined)[] = [];
  const pairs = tables.pairs.filter(pair => pair.mvol === volume.ldev && pair.direction !== 'reverse');
  for (const [index, pair] of pairs.entries()) {
    await start(async sent => (failures[index] = await propagate(site, tables, pair, writes, outcome, changes, sent)));
  }
  options.issued?.();
  const settled = await Promise.allSettled(answers);
  failures.forEach((failure, index) => failure && outcome.suspendedByError.push({pair: pairs[index]!.pair, reason: failure}));
  if (changes.size > 0 || (changes.gaps && !changes.gaps.empty) || changes.unsent) {
    const underLock = options.underLock ?? (async (record: () => void) => site.lock.run(record));
    await underLock(() => record(site, changes));
  }
  const thrown = settled.find((answer): answer is PromiseRejectedResult => answer.status === 'rejected');
  if (thrown) throw thrown.reason;
  return outcome;
}

/** What the answers left: bits first (the writes are tracked before a pair says PSUE), then the pair rows. */
function record(site: Site, changes: PairChanges): void {
  for (const {bitmap: file, writes} of changes.unsent ?? []) {
    const bitmap = PairBitmap.open(site.path(file), site.lock.hold);
    try {
      markAll(bitmap, writes);
    } finally {
      bitmap.close();
    }
  }
  if (changes.size === 0 && (!changes.gaps || changes.gaps.empty)) return;
  site.update(current => {
    for (const [pair, change] of changes) Object.assign(site.pair(current, pair), change);
    changes.gaps?.save(current);
  });
}

/**
 * At the remote after takeover (Fig. 22): the R-VOL takes host writes and its own
 * bitmap tracks them for failback; after failback (direction reverse) each write
 * also goes back to the M-VOL at the primary.
 */
async function followTakeover(site: Site, tables: Tables, volume: VolumeRow, writes: readonly VolumeWrite[], outcome: WriteOutcome, changes: PairChanges,
  sent: () => void): Promise<void> {
  const claim = volume.rvolOf!;
  if (claim.direction !== 'reverse') {
    const bitmap = PairBitmap.open(site.path(claim.takeover!.bitmap), site.lock.hold);
    try {
      markAll(bitmap, writes);
    } finally {
      bitmap.close();
    }
    return;
  }
  const sending = peerLinkOf(site, tables, claim.primarySite).then(link => writes.map(({offset, data}) => link.writeRvol(claim.mvol, offset, data)));
  const failed = await firstFailure(sending.finally(sent));
  if (failed) {
    noteUnsent(changes, claim.takeover!.bitmap, writes.slice(failed.index));
    outcome.warnings.push(`the M-VOL at the primary was not written (${(failed.error as Error).message}); the change is tracked here`);
  }
}

/**
 * The first of the calls sent together that failed, in the order sent (index 0
 * when they could not be sent: the link did not open), or undefined when all
 * were done. Every answer is awaited first.
 */
async function firstFailure(sending: readonly Promise<void>[] | Promise<readonly Promise<void>[]>): Promise<{index: number; error: unknown} | undefined> {
  let sent: readonly Promise<void>[];
  try {
    sent = await sending;
  } catch (error) {
    return {index: 0, error};
  }
  const answers = await Promise.allSettled(sent);
  const index = answers.findIndex(answer => answer.status === 'rejected');
  return index < 0 ? undefined : {index, error: (answers[index] as PromiseRejectedResult).reason};
}

function markAll(bitmap: PairBitmap, writes: readonly VolumeWrite[]): void {
  for (const {offset, data} of writes) bitmap.markRange(offset, data.length);
}

/**
 * Sends the writes where the pair's state says; returns why, when the pair fell to
 * PSUE. The bits this state sets are set before anything is sent, under the lock.
 */
async function propagate(site: Site, tables: Tables, pair: PairRow, writes: readonly VolumeWrite[], outcome: WriteOutcome, changes: PairChanges,
  sent: () => void): Promise<string | undefined> {
  // A logging pair outside PSUS (resynchronising, back in PAIR, PSUE) sends nothing to the log.
  if (pair.logGroup !== null && pair.state !== 'PSUS') noteUnlogged(tables, pair, pair.suspendedBy ?? pair.state, changes);
  let send: {writes: readonly VolumeWrite[]; positions?: number[]} | 'log' | undefined;
  const bitmap = PairBitmap.open(site.path(pair.bitmap), site.lock.hold);
  try {
    switch (pair.state) {
      case 'PAIR':
        send = {writes};
        break;
      case 'COPY':
        send = behindCopy(bitmap, writes);
        break;
      case 'PSUS':
        markAll(bitmap, writes);
        if (pair.logGroup !== null) send = 'log';
        break;
      case 'SSWS':
        markAll(bitmap, writes);
        tookOver(pair, 0, outcome);
        break;
      default:
        markAll(bitmap, writes);
    }
  } finally {
    bitmap.close();
  }
  if (send === 'log') return log(site, tables, pair, writes, outcome, changes, sent);
  if (send) return replicate(site, tables, pair, send.writes, outcome, changes, sent, send.positions);
  return undefined;
}

/**
 * Fig. 15: the part of a write behind the copy pointer is replicated now; the part
 * ahead is only marked, and the copy carries it. Undefined when no part is behind.
 */
function behindCopy(bitmap: PairBitmap, writes: readonly VolumeWrite[]): {writes: VolumeWrite[]; positions: number[]} | undefined {
  const behind: VolumeWrite[] = [];
  const positions: number[] = [];
  for (const [index, {offset, data}] of writes.entries()) {
    const copiedUpTo = Math.min(bitmap.copyPointer * bitmap.chunkSize, offset + data.length);
    const length = Math.max(0, copiedUpTo - offset);
    if (length < data.length) bitmap.markRange(offset + length, data.length - length);
    if (length > 0) {
      behind.push({offset, data: data.subarray(0, length)});
      positions.push(index);
    }
  }
  return behind.length === 0 ? undefined : {writes: behind, positions};
}

/**
 * `positions`: where each of `writes` stands in the batch, when they are only part of it.
 * A link that does not open suspends the pair like one that fails mid-stream: the writes
 * are on the M-VOL, so they are tracked and the host goes on (a remote that is down
 * must not stop the primary's hosts).
 */
async function replicate(site: Site, tables: Tables, pair: PairRow, writes: readonly VolumeWrite[], outcome: WriteOutcome, changes: PairChanges,
  sent: () => void, positions?: number[]): Promise<string | undefined> {
  let link: Awaited<ReturnType<typeof linkOf>>;
  try {
    link = await linkOf(site, tables);
  } catch (error) {
    noteUnsent(changes, pair.bitmap, writes);
    return suspend(pair, error, positions?.[0] ?? 0, outcome, changes);
  }
  const sending = writes.map(({offset, data}) => link.writeRvol(pair.rvol.ldev, offset, data));
  sent();
  const failed = await firstFailure(sending);
  if (!failed) return undefined;
  // The host writes already landed on the M-VOL: keep them, track them (the later ones
  // may have reached the R-VOL too; a set bit only copies a chunk again), and say why.
  noteUnsent(changes, pair.bitmap, writes.slice(failed.index));
  return suspend(pair, failed.error, positions?.[failed.index] ?? failed.index, outcome, changes);
}

/** Log mode: each write becomes a record in the group's log at the remote, all of a batch in one append. */
async function log(site: Site, tables: Tables, pair: PairRow, writes: readonly VolumeWrite[], outcome: WriteOutcome, changes: PairChanges,
  sent: () => void): Promise<string | undefined> {
  try {
    const link = await linkOf(site, tables);
    if (tables.logGaps?.length) await gapNotes(changes).reportBefore(tables, link, pair.logGroup!);
    const appending = link.appendToLog(pair.logGroup!, writes.map(({offset, data}) => ({kind: 'write', ldev: pair.rvol.ldev, address: offset, data})));
    sent();
    const result = await appending;
    result.appended.forEach((appended, write) => outcome.logged.push({group: pair.logGroup!, logId: appended.logId, write}));
    outcome.warnings.push(...result.warnings);
    return undefined;
  } catch (error) {
    // The bits are already set: the writes are on the M-VOL and tracked for resync.
    const why = suspend(pair, error, 0, outcome, changes);
    if (!(error instanceof TakenOverError)) noteUnlogged(tables, pair, error instanceof MarklogError ? error.code : 'IO_ERROR', changes);
    return why;
  }
}

function tookOver(pair: PairRow, from: number, outcome: WriteOutcome): void {
  outcome.takenOver.push(pair.pair);
  outcome.takenOverFrom = Math.min(outcome.takenOverFrom, from);
}

/**
 * A pair whose copy failed at write `from` of the batch: SSWS when the remote took
 * over (no split brain), PSUE otherwise.
 */
function suspend(pair: PairRow, error: unknown, from: number, outcome: WriteOutcome, changes: PairChanges): string | undefined {
  if (error instanceof TakenOverError) {
    changes.set(pair.pair, {state: 'SSWS', logGroup: null});
    tookOver(pair, from, outcome);
    return undefined;
  }
  changes.set(pair.pair, {state: 'PSUE', suspendedBy: error instanceof MarklogError ? error.code : 'IO_ERROR'});
  return (error as Error).message;
}
