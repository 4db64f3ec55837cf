// The pipelined host write path (docs/ARCHITECTURE.md "Write pipeline"): what a
// long-lived front end (`marklog serve`) sends its requests through, so many can be
// in flight. Requests are admitted in the order they are submitted; those that come
// while a batch is being done wait, and all of them form the next batch, done in
// one hold of the site lock and in admission order: writes to one volume go in runs
// of up to ACTIVITY_SLOTS, each run's writes hold a slot of the activity log,
// reach the M-VOL in order, then go to each pair in that order (one log append per
// run). Admission order, M-VOL order and log-ID order are one order. A request is
// answered only once its whole batch is done, so a mark or an admin command of
// another process, which needs the lock, falls between two batches: after every
// write answered before it and before every write submitted after it returned.
// The lock is waited for without stopping the event loop, and let go after each
// batch: other processes get the site between two batches.
import {ACTIVITY_SLOTS} from '../format/inflight-format.js';
import {TakenOverError} from '../errors.js';
import {noteBaseChange} from '../site/remote-endpoint.js';
import {lingeringUntilSettled} from '../util/lock.js';
import {checkHostAccess, syncEverywhere} from './host-io.js';
import {beginWrites, endWrites, repairInflight} from './inflight.js';
import {firstBatchSize} from '../util/test-hooks.js';
import {forwardBatch, type VolumeWrite} from './write-through.js';
import type {Site} from '../site/site.js';
import type {Tables, VolumeRow} from '../site/tables.js';

export type HostRequest =
  | {kind: 'write'; ldev: number; offset: number; data: Uint8Array; fua?: boolean}
  /** Reads back as zeros (NBD TRIM and WRITE_ZEROES): journalled as zero records. */
  | {kind: 'zero'; ldev: number; offset: number; length: number; fua?: boolean}
  | {kind: 'read'; ldev: number; offset: number; length: number}
  /** Every write answered before it is on stable storage: the M-VOL, the R-VOLs it reached, the log. */
  | {kind: 'flush'; ldev: number};

/**
 * A request in the pipeline; settled once, when its last piece is done or its first
 * fails, and answered (deliver) once its whole batch is done: the batch awaits the
 * remote, and no answer may leave while it holds the lock.
 */
class Admitted {
  /** Writes of it not yet done (a long zero request is several). */
  pieces = 0;
  settled = false;
  private answer: (() => void) | undefined;

  constructor(readonly request: HostRequest, private readonly settle: {resolve(data?: Buffer): void; reject(error: unknown): void}) {}

  resolve(data?: Buffer): void {
    if (this.settled) return;
    this.settled = true;
    this.answer = () => this.settle.resolve(data);
  }

  /** One of its writes is done: the request is, once all of them are. */
  pieceDone(): void {
    if (--this.pieces === 0) this.resolve();
  }

  reject(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.answer = () => this.settle.reject(error);
  }

  deliver(): void {
    this.answer?.();
    this.answer = undefined;
  }
}

/** One write of a run, and the request it is (part of). */
interface RunWrite extends VolumeWrite {
  from: Admitted;
}

export interface PipelineOptions {
  /** What went wrong beside the answer (a pair fell to PSUE, a log passed its threshold): one line each. */
  onWarning?: (warning: string) => void;
}

const ZEROS = Buffer.alloc(1024 * 1024);
const WARN_EVERY_MS = 60_000;
/** A bound on how long a lock let go inside a batch stays held: the batch's own length, and one turn of the event loop. */
const BATCH_LINGER_MS = 20;

export class WritePipeline {
  private queue: Admitted[] = [];
  private running = false;
  /** Settles once nothing is queued or running. */
  private idleWaiters: (() => void)[] = [];
  /** Volumes written since they were last made durable. */
  private readonly unsynced = new Set<number>();
  /** When each warning (figures aside) was last passed on. */
  private readonly warned = new Map<string, number>();
  /** Requests to queue before the first batch starts (1 unless a test asks: test-hooks.ts). */
  private firstBatch = firstBatchSize();

  constructor(readonly site: Site, private readonly options: PipelineOptions = {}) {}

  submit(request: HostRequest): Promise<Buffer | undefined> {
    return new Promise<Buffer | undefined>((resolve, reject) => {
      this.queue.push(new Admitted(request, {resolve, reject}));
      if (this.queue.length >= this.firstBatch) this.start();
    });
  }

  private start(): void {
    this.firstBatch = 1;
    if (this.running) return;
    this.running = true;
    // Requests that arrive in this turn of the event loop join the batch.
    setImmediate(() => void this.runBatches());
  }

  /** Resolves once every request submitted so far has been answered. */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise(resolve => this.idleWaiters.push(resolve));
  }

  /** Volumes written since they were last flushed. */
  get written(): ReadonlySet<number> {
    return this.unsynced;
  }

  private async runBatches(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      let locked = false;
      try {
        // Reads alone change nothing and need no lock, as a host read never did: they are
        // after every write answered before them all the same (those batches are done).
        if (batch.some(admitted => admitted.request.kind !== 'read')) {
          await this.site.lock.acquireWithoutBlocking();
          locked = true;
          await repairInflight(this.site);
        }
        // The locks a batch takes inside (the remote's, for each replicated write or append) are
        // taken once for the batch: they are let go when the event loop turns, before the next one.
        // The bound is the whole process's until the batch settles (it awaits the remote), which
        // is safe because batches are done one at a time: no other work of the pipeline lingers.
        await lingeringUntilSettled(BATCH_LINGER_MS, () => this.doBatch(batch));
      } catch (error) {
        // The lock was not had, or the repair before the batch failed: what is not settled was not done.
        for (const admitted of batch) admitted.reject(error);
      } finally {
        if (locked) this.site.lock.release();
      }
      for (const admitted of batch) admitted.deliver();
      // Let the answers go out, and new requests in, before the next batch.
      await new Promise(resolve => setImmediate(resolve));
    }
    this.running = false;
    for (const waiter of this.idleWaiters.splice(0)) waiter();
  }

  /** Under the lock (unless it is reads alone): every request of the batch, in order; each is settled. */
  private async doBatch(batch: Admitted[]): Promise<void> {
    let run: RunWrite[] = [];
    let runVolume: VolumeRow | undefined;
    // The tables reads look at: read once until a run of writes (which may change them) is done.
    let readView: Tables | undefined;
    const finishRun = async () => {
      const [done, volume] = [run, runVolume];
      run = [];
      runVolume = undefined;
      if (done.length > 0) {
        await this.writeRun(volume!, done);
        readView = undefined;
      }
    };
    for (const admitted of batch) {
      const {request} = admitted;
      try {
        if (request.kind === 'read' || request.kind === 'flush') {
          await finishRun();
          await this.doOther(admitted, (readView ??= this.site.view()));
          continue;
        }
        const tables = this.site.view();
        const volume = this.checkedTarget(tables, request.ldev, request.offset, request.kind === 'write' ? request.data.length : request.length);
        if (runVolume && runVolume.ldev !== volume.ldev) await finishRun();
        const pieces = piecesOf(request);
        admitted.pieces = pieces.length;
        for (const write of pieces) {
          if (run.length === ACTIVITY_SLOTS) await finishRun();
          runVolume = volume;
          run.push({...write, from: admitted});
        }
      } catch (error) {
        admitted.reject(error);
      }
    }
    await finishRun();
  }

  /** The volume a host write goes to, checked as hostWrite checks it. */
  private checkedTarget(tables: Tables, ldev: number, offset: number, length: number): VolumeRow {
    const volume = this.site.volume(tables, ldev);
    checkHostAccess(tables, volume, true);
    this.site.image(volume).checkRange(offset, length);
    // A volume still in a log group but given to hosts (released by an older marklog) is a base changing.
    if (volume.logGroup !== null && !volume.rvolOf) {
      noteBaseChange(this.site, volume);
      return this.site.volume(this.site.view(), ldev);
    }
    return volume;
  }

  /** A run of writes to one volume: slots, M-VOL, pairs, then the answers. */
  private async writeRun(checked: VolumeRow, run: RunWrite[]): Promise<void> {
    const requests = [...new Set(run.map(write => write.from))];
    try {
      // The tables again: the run before may have moved a pair to PSUE.
      const tables = this.site.view();
      const volume = this.site.volume(tables, checked.ldev);
      beginWrites(this.site, run.map(write => ({ldev: volume.ldev, offset: write.offset, length: write.data.length})));
      const image = this.site.image(volume);
      for (const write of run) image.write(write.offset, write.data);
      const outcome = await forwardBatch(this.site, tables, volume, run);
      endWrites(this.site);
      this.unsynced.add(volume.ldev);
      for (const warning of outcome.warnings) this.warn(warning);
      for (const {pair, reason} of outcome.suspendedByError) this.warn(`pair ${pair} is now PSUE (${reason}); writes are kept on the M-VOL and tracked for resync`);
      if (requests.some(admitted => 'fua' in admitted.request && admitted.request.fua)) await this.sync(volume.ldev);
      const takenOver = new Set(run.slice(outcome.takenOverFrom).map(write => write.from));
      for (const admitted of takenOver) {
        admitted.reject(new TakenOverError(`pair ${outcome.takenOver.join(', ')} was taken over at the remote site (SSWS); this write is kept on the M-VOL and tracked for failback`,
          'stop writing at this site; hosts now write at the remote, and `marklog pair resync --reverse` fails back'));
      }
      for (const write of run) write.from.pieceDone();
    } catch (error) {
      // The slots stay set: the next batch's repair sends on whatever reached the M-VOL.
      for (const admitted of requests) admitted.reject(error);
    }
  }

  private async doOther(admitted: Admitted, tables: Tables): Promise<void> {
    const {request} = admitted;
    if (request.kind === 'read') {
      const volume = this.site.volume(tables, request.ldev);
      checkHostAccess(tables, volume, false);
      admitted.resolve(this.site.image(volume).read(request.offset, request.length));
      return;
    }
    // Nothing written since the last flush: there is nothing to make durable.
    if (this.unsynced.has(request.ldev)) await this.sync(request.ldev);
    admitted.resolve();
  }

  private async sync(ldev: number): Promise<void> {
    const tables = this.site.view();
    await syncEverywhere(this.site, tables, this.site.volume(tables, ldev));
    this.unsynced.delete(ldev);
  }

  /** Each warning at most once a minute (figures aside): a log past its threshold would say so on every batch. */
  private warn(warning: string): void {
    const key = warning.replace(/\d+(\.\d+)?/g, '#');
    const now = Date.now();
    if (now - (this.warned.get(key) ?? -Infinity) < WARN_EVERY_MS) return;
    this.warned.set(key, now);
    this.options.onWarning?.(warning);
  }
}

/** A request as the writes it makes: a zero request in pieces of at most 1 MiB of zeros. */
function piecesOf(request: Extract<HostRequest, {kind: 'write' | 'zero'}>): VolumeWrite[] {
  if (request.kind === 'write') return [{offset: request.offset, data: request.data}];
  const pieces: VolumeWrite[] = [];
  for (let done = 0; done < request.length; done += ZEROS.length) {
    pieces.push({offset: request.offset + done, data: ZEROS.subarray(0, Math.min(ZEROS.length, request.length - done))});
  }
  return pieces;
}
