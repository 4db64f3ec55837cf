// The pipelined host write path (docs/ARCHITECTURE.md "Write pipeline"): what a
// long-lived front end (`marklog serve`) sends its requests through, so many can be
// in flight. Requests are admitted in the order they are submitted; those that come
// while a batch is being taken in wait, and all of them form the next batch, done in
// admission order: writes to one volume go in runs of up to RUN_WRITES, each run's
// writes hold slots of the activity log, reach the M-VOL in order, then go to each
// pair in that order (one log append per run). A run is sent once the run before it
// has been handed to the links, without waiting for its answers, so up to
// RUNS_IN_FLIGHT runs are on the way at once (a link does its calls in the order
// sent): admission order, M-VOL order and log-ID order stay one order. Answers leave
// in admission order, each once its run has gone everywhere it goes.
// The site lock is taken without stopping the event loop, to send a run, and let go
// once its calls are on their links: no lock is held while answers are awaited. The
// run's activity-log slots stay locked until its answers are in (inflight.ts), so
// another process that takes the site lock waits for them first; once one waits,
// no new run starts until it has had its turn: a mark or an admin command of another
// process falls after every write answered before it and before every write
// submitted after it returned. Consequences of failed answers (bits, PSUE) are
// recorded under the lock, taken again for that.
import {TakenOverError} from '../errors.js';
import {noteBaseChange} from '../site/remote-endpoint.js';
import {lingeringUntilSettled} from '../util/lock.js';
import {checkHostAccess, syncEverywhere} from './host-io.js';
import {abandonWrites, beginWrites, endWrites, freeSlotCount, repairInflight} from './inflight.js';
import {firstBatchSize} from '../util/test-hooks.js';
import {forwardBatch, type VolumeWrite} from './write-through.js';
import {Admitted, piecesOf, type HostRequest} from './host-request.js';

export type {HostRequest} from './host-request.js';
import type {Site} from '../site/site.js';
import type {Tables, VolumeRow} from '../site/tables.js';

/** One write of a run, and the request it is (part of). */
interface RunWrite extends VolumeWrite {
  from: Admitted;
}

export interface PipelineOptions {
  /** What went wrong beside the answer (a pair fell to PSUE, a log passed its threshold): one line each. */
  onWarning?: (warning: string) => void;
}

const WARN_EVERY_MS = 60_000;
/** A bound on how long a lock let go inside a batch stays held: the batch's own length, and one turn of the event loop. */
const BATCH_LINGER_MS = 20;
/** Writes in one run: one log append, one call per write on the link. */
const RUN_WRITES = 64;
/** Runs sent and not yet answered: enough to keep a link busy for a round trip at a host's queue depth. */
const RUNS_IN_FLIGHT = 8;
/** How long the pipeline stands aside, at most, for another process waiting for the lock. */
const GIVE_WAY_MS = 250;

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
  /** Admitted and not yet answered, in admission order: answers leave in this order. */
  private answering: Admitted[] = [];
  /** Runs sent and not yet answered everywhere; each settles (never fails) once done. */
  private readonly inFlight = new Set<Promise<void>>();
  private locked = false;
  /** Wakes a pipeline waiting for its next request. */
  private arrived: (() => void) | undefined;

  constructor(readonly site: Site, private readonly options: PipelineOptions = {}) {}

  submit(request: HostRequest): Promise<Buffer | undefined> {
    return new Promise<Buffer | undefined>((resolve, reject) => {
      this.queue.push(new Admitted(request, {resolve, reject}));
      this.arrived?.();
      this.arrived = undefined;
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
    for (;;) {
      await this.takeBatches();
      // Nothing queued, nothing in flight: the lock is let go (after a request that came meanwhile, if one did).
      await this.letGo();
      if (this.queue.length === 0) break;
    }
    this.running = false;
    for (const waiter of this.idleWaiters.splice(0)) waiter();
  }

  /** Batch after batch, while requests come or runs are in flight. */
  private async takeBatches(): Promise<void> {
    for (;;) {
      if (this.queue.length === 0) {
        if (this.inFlight.size === 0) return;
        // The host is waiting for answers: the next requests come as they go out.
        await Promise.race([this.arrival(), Promise.race(this.inFlight)]);
        continue;
      }
      // Another process waits for the lock: it comes after what is in flight, before what is queued.
      if (this.site.lock.othersWaiting()) await this.letGo();
      const batch = this.queue;
      this.queue = [];
      this.answering.push(...batch);
      try {
        // The locks a batch takes inside (the remote's, for each replicated write or append,
        // over a directory link) are taken once for the batch: let go when the event loop turns.
        await lingeringUntilSettled(BATCH_LINGER_MS, () => this.doBatch(batch));
      } catch (error) {
        // What is not settled was not done.
        for (const admitted of batch) admitted.reject(error);
      } finally {
        this.unlock();
      }
      this.deliver();
      // Let the answers go out, and new requests in, before the next batch.
      await new Promise(resolve => setImmediate(resolve));
    }
  }

  /** Settles when the next request is submitted. */
  private arrival(): Promise<void> {
    return new Promise(resolve => (this.arrived = resolve));
  }

  /**
   * The site lock, and the activity log repaired of whatever a killed process left in
   * it (after the writes another live process has in flight are answered).
   */
  private async takeLock(): Promise<void> {
    if (this.locked) return;
    await this.site.lock.acquireWithoutBlocking();
    this.locked = true;
    try {
      await repairInflight(this.site, warning => this.warn(warning));
    } catch (error) {
      this.unlock();
      throw error;
    }
  }

  /** Lets the lock go at once (never lingering): what follows waits on the network. */
  private unlock(): void {
    if (!this.locked) return;
    this.site.lock.releaseNow();
    this.locked = false;
  }

  /** Every run in flight answered, then the lock let go; a waiting process gets its turn first. */
  private async letGo(): Promise<void> {
    this.unlock();
    await this.settleInFlight();
    const until = Date.now() + GIVE_WAY_MS;
    while (this.site.lock.othersWaiting() && Date.now() < until) await new Promise(resolve => setTimeout(resolve, 1));
  }

  /** Records what a run's answers left (bits, PSUE) under the lock, taken again if it was let go. */
  private async underLock(record: () => void): Promise<void> {
    await this.site.lock.acquireWithoutBlocking();
    try {
      record();
    } finally {
      this.site.lock.releaseNow();
    }
  }

  private async settleInFlight(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    this.deliver();
  }

  /** Answers every request, from the oldest, up to the first not yet settled. */
  private deliver(): void {
    let done = 0;
    while (done < this.answering.length && this.answering[done]!.settled) this.answering[done++]!.deliver();
    this.answering.splice(0, done);
  }

  /** Every request of the batch, in order (runs of writes sent under the lock); each is settled, or in a run in flight. */
  private async doBatch(batch: Admitted[]): Promise<void> {
    let run: RunWrite[] = [];
    let runVolume: VolumeRow | undefined;
    // The tables requests are checked against: read once until a run of writes (which may change them) is sent.
    let readView: Tables | undefined;
    const finishRun = async () => {
      const [done, volume] = [run, runVolume];
      run = [];
      runVolume = undefined;
      if (done.length > 0) {
        await this.sendRun(volume!, done);
        readView = undefined;
      }
    };
    for (const admitted of batch) {
      const {request} = admitted;
      try {
        if (request.kind === 'read' || request.kind === 'flush') {
          await finishRun();
          // A flush covers every write answered before it: all of them, everywhere they go.
          if (request.kind === 'flush') await this.settleInFlight();
          await this.doOther(admitted, (readView ??= this.site.view()));
          continue;
        }
        // Checked against the tables as the batch found them: the run is checked again under the lock (sendRun).
        const tables = (readView ??= this.site.view());
        const row = this.site.volume(tables, request.ldev);
        const volume = await this.checkedTarget(tables, row, request.offset, request.kind === 'write' ? request.data.length : request.length);
        // A base change noted on the way (checkedTarget) changed the tables.
        if (volume !== row) readView = undefined;
        if (runVolume && runVolume.ldev !== volume.ldev) await finishRun();
        const pieces = piecesOf(request);
        admitted.pieces = pieces.length;
        for (const write of pieces) {
          if (run.length === RUN_WRITES) await finishRun();
          runVolume = volume;
          run.push({...write, from: admitted});
        }
      } catch (error) {
        admitted.reject(error);
      }
    }
    await finishRun();
  }

  /** The volume a host write goes to, checked as hostWrite checks it (its row again when noting a base change changed the tables). */
  private async checkedTarget(tables: Tables, volume: VolumeRow, offset: number, length: number): Promise<VolumeRow> {
    checkHostAccess(tables, volume, true);
    this.site.image(volume).checkRange(offset, length);
    // A volume still in a log group but given to hosts (released by an older marklog) is a base changing.
    if (volume.logGroup !== null && !volume.rvolOf) {
      await this.settleInFlight();
      await this.takeLock();
      noteBaseChange(this.site, volume);
      return this.site.volume(this.site.view(), volume.ldev);
    }
    return volume;
  }

  /**
   * A run of writes to one volume: slots, M-VOL, then handed to its pairs, under the
   * lock; returns once every call of it is on its link, the lock let go. Its answers
   * come later (runDone).
   */
  private async sendRun(checked: VolumeRow, run: RunWrite[]): Promise<void> {
    const requests = [...new Set(run.map(write => write.from))];
    let slots: number[] = [];
    try {
      // Room in flight is waited for without the lock: the answers that make it come over the network.
      while (this.inFlight.size >= RUNS_IN_FLIGHT || (freeSlotCount(this.site) < run.length && this.inFlight.size > 0)) {
        this.unlock();
        await Promise.race(this.inFlight);
      }
      await this.takeLock();
      // Slots of runs that failed wait for a repair: with nothing in flight, it is done now.
      if (freeSlotCount(this.site) < run.length) await repairInflight(this.site, warning => this.warn(warning));
    } catch (error) {
      this.runFailed(requests, slots, error);
      return;
    }
    let sent!: () => void;
    const handedOver = new Promise<void>(resolve => (sent = resolve));
    let done: Promise<void>;
    try {
      // The tables again: a run before may have moved a pair to PSUE.
      const tables = this.site.view();
      const volume = this.site.volume(tables, checked.ldev);
      slots = beginWrites(this.site, run.map(write => ({ldev: volume.ldev, offset: write.offset, length: write.data.length})));
      const image = this.site.image(volume);
      for (const write of run) image.write(write.offset, write.data);
      done = forwardBatch(this.site, tables, volume, run, {issued: sent, underLock: record => this.underLock(record)}).then(
        outcome => this.runDone(volume, run, requests, slots, outcome),
        error => this.runFailed(requests, slots, error));
    } catch (error) {
      done = Promise.resolve(this.runFailed(requests, slots, error));
    }
    const tracked: Promise<void> = lingeringUntilSettled(BATCH_LINGER_MS, () => done).finally(() => {
      this.inFlight.delete(tracked);
      this.deliver();
    });
    this.inFlight.add(tracked);
    await Promise.race([handedOver, tracked]);
    this.unlock();
  }

  /** A run has gone everywhere it goes: its slots are cleared, its requests settled. */
  private async runDone(volume: VolumeRow, run: RunWrite[], requests: Admitted[], slots: number[], outcome: Awaited<ReturnType<typeof forwardBatch>>): Promise<void> {
    try {
      endWrites(this.site, slots);
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
      this.runFailed(requests, [], error);
    }
  }

  /** The slots stay set, unlocked: the repair at the next hold of the lock (here or elsewhere) sends on whatever reached the M-VOL. */
  private runFailed(requests: Admitted[], slots: readonly number[], error: unknown): void {
    abandonWrites(this.site, slots);
    for (const admitted of requests) admitted.reject(error);
    // The host hears only an errno (EIO): the reason is the operator's to read.
    this.warn(`${requests.length} host request(s) failed: ${(error as Error)?.message ?? String(error)}`);
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
