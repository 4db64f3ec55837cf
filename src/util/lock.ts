// Inter-process lock on a site: flock(2) on the site's lock file. The kernel drops
// it when the holder dies (kill -9 included), so a crashed command never blocks
// the next one; a live holder is waited for, with a bound.
import fs from 'node:fs';
import {fsx} from '../native/fsx.js';
import {LockTimeoutError} from '../errors.js';

const DEFAULT_TIMEOUT_MS = 30_000;
/** Counts every acquisition in this process, across all locks: a hold's number is never reused. */
let acquisitions = 0;
/** While above 0, a release keeps the lock that long (see lingering()). */
let lingerMs = 0;
/** The bounds of lingeringUntilSettled() calls whose work has not settled yet, one each. */
const settling: number[] = [];
/** Locks released inside lingering(), still held, by path: another handle on the same file ends them. */
const lingeringByPath = new Map<string, FileLock>();
let endScheduled = false;

/**
 * Runs `work` so that every lock it releases stays held for up to `ms` more
 * (across later calls made the same way), until the event loop turns, or until
 * another handle in this process wants the same lock. A stream of small writes
 * then costs no lock system calls, while other processes still get the lock
 * within `ms` (plus their polling interval).
 */
export function lingering<T>(ms: number, work: () => T): T {
  const outer = lingerMs;
  lingerMs = Math.max(outer, ms);
  try {
    return work();
  } finally {
    lingerMs = outer;
  }
}

/**
 * lingering() for asynchronous work: the bound holds until the promise `work`
 * returns settles, across every turn of the event loop in between. The bound is
 * process-wide, so whatever else runs meanwhile lingers too: meant for work done
 * one at a time (a front end's batches), not for many overlapping calls.
 */
export async function lingeringUntilSettled<T>(ms: number, work: () => Promise<T>): Promise<T> {
  settling.push(ms);
  try {
    return await work();
  } finally {
    settling.splice(settling.indexOf(ms), 1);
  }
}

/** How long a release now keeps the lock: the largest bound in force, 0 for none. */
function lingerBound(): number {
  if (settling.length === 0) return lingerMs;
  let bound = lingerMs;
  for (const ms of settling) bound = Math.max(bound, ms);
  return bound;
}

/** Lets go of every lingering lock nobody in this process is inside (before waiting on other processes). */
export function endLingering(): void {
  for (const lock of [...lingeringByPath.values()]) lock.endLinger();
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

function sleep(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** The pauses between two tries for a lock (1, 2, 4, then 8 ms), ending in LockTimeoutError at the bound. */
function* pauses(path: string): Generator<number, never> {
  const limit = timeoutMs();
  const start = Date.now();
  let pause = 1;
  for (;;) {
    const waited = Date.now() - start;
    if (waited >= limit) throw new LockTimeoutError(path, waited);
    yield Math.min(pause, limit - waited);
    pause = Math.min(pause * 2, 8);
  }
}

function timeoutMs(): number {
  const text = process.env.MARKLOG_LOCK_TIMEOUT_MS?.trim();
  const fromEnv = text ? Number(text) : Number.NaN;
  return Number.isFinite(fromEnv) && fromEnv >= 0 ? fromEnv : DEFAULT_TIMEOUT_MS;
}

/**
 * A reentrant (within this process) exclusive lock on one file. A process that
 * has to wait also holds a shared lock on `<path>.queue` while it waits, so a
 * long holder (a copy working in batches) can see someone is waiting and give
 * way between batches instead of starving host writes.
 */
export class FileLock {
  private fd: number | undefined;
  /** The queue file, kept open once seen, as the lock file is: othersWaiting() runs between every two requests of a batch. */
  private queueFd: number | undefined;
  private depth = 0;
  private holdNumber = 0;
  /** When set, the lock is held with nobody inside: since this time, for at most `lingerLimit` ms. */
  private lingerSince: number | undefined;
  private lingerLimit = 0;

  constructor(readonly path: string) {}

  private get queuePath(): string {
    return `${this.path}.queue`;
  }

  acquire(): void {
    if (this.depth > 0) {
      this.depth++;
      return;
    }
    if (this.lingerSince !== undefined && Date.now() - this.lingerSince <= this.lingerLimit) {
      this.depth = 1;
      return;
    }
    // Never wait for a lock while keeping another one this process is not using:
    // a process holding that one and waiting for this one would deadlock with us.
    // (That includes another handle's hold of this very file.)
    const lingered = this.lingerSince !== undefined;
    endLingering();
    if (lingered) this.yieldToWaiters();
    // The file stays open between holds: opening it costs as much as the lock itself.
    this.fd ??= fs.openSync(this.path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    if (!fsx.tryLock(this.fd, true)) this.waitFor(this.fd);
    this.depth = 1;
    this.holdNumber = ++acquisitions;
  }

  /**
   * Takes the lock if nobody else holds it, without waiting; false when another
   * process does (or another handle in this one).
   */
  tryAcquire(): boolean {
    if (this.depth > 0 || (this.lingerSince !== undefined && Date.now() - this.lingerSince <= this.lingerLimit)) {
      this.depth++;
      return true;
    }
    endLingering();
    this.fd ??= fs.openSync(this.path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    if (!fsx.tryLock(this.fd, true)) return false;
    this.depth = 1;
    this.holdNumber = ++acquisitions;
    return true;
  }

  /**
   * Takes the lock for a long-lived process that must not stop its event loop: it
   * polls, shows itself a waiter on the queue file as acquire() does (so a long
   * holder gives way), and gives up with LockTimeoutError after the same bound.
   */
  async acquireWithoutBlocking(): Promise<void> {
    if (this.tryAcquire()) return;
    const queue = this.enterQueue();
    try {
      for (const pause of pauses(this.path)) {
        if (this.tryAcquire()) return;
        await new Promise(resolve => setTimeout(resolve, pause));
      }
    } finally {
      fs.closeSync(queue);
    }
  }

  /**
   * Names the current hold (0 when not held). Nobody else can change what this
   * lock guards while the number stays the same, so state read under it may be
   * reused without asking the file system again.
   */
  get hold(): number {
    return this.depth > 0 ? this.holdNumber : 0;
  }

  private waitFor(fd: number): void {
    const queue = this.enterQueue();
    try {
      for (const pause of pauses(this.path)) {
        if (fsx.tryLock(fd, true)) return;
        sleep(pause);
      }
    } finally {
      fs.closeSync(queue);
    }
  }

  /** A shared lock on the queue file, held while waiting: a long holder sees someone waits. Returns its descriptor. */
  private enterQueue(): number {
    const queue = fs.openSync(this.queuePath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    fsx.tryLock(queue, false);
    return queue;
  }

  /** True while another process waits for this lock. */
  othersWaiting(): boolean {
    if (this.queueFd === undefined) {
      try {
        this.queueFd = fs.openSync(this.queuePath, fs.constants.O_RDWR);
      } catch {
        // Nobody has waited yet: there is no queue file.
        return false;
      }
    }
    // A flock belongs to an open file description: this one holds none between calls, so a waiter's shared lock is all it can meet.
    if (!fsx.tryLock(this.queueFd, true)) return true;
    fsx.unlock(this.queueFd);
    return false;
  }

  /** Between two holds: lets waiting processes take the lock first (bounded). */
  yieldToWaiters(maxMs = 250): void {
    const start = Date.now();
    while (this.othersWaiting() && Date.now() - start < maxMs) sleep(1);
  }

  /**
   * Lets go of a hold (at any depth) while `ready()` is false: polls as
   * acquireWithoutBlocking() does, shown a waiter on the queue file meanwhile, and
   * comes back holding the lock, at the same depth, in a new hold (what was read
   * under the old one must be read again), once `ready()` is true under it.
   * LockTimeoutError after the usual bound, the lock then not held.
   */
  async standAside(ready: () => boolean): Promise<void> {
    if (this.depth === 0) throw new Error('standAside() without the lock');
    const depth = this.depth;
    this.depth = 0;
    this.forgetLinger();
    fsx.unlock(this.fd!);
    const queue = this.enterQueue();
    try {
      for (const pause of pauses(this.path)) {
        await new Promise(resolve => setTimeout(resolve, pause));
        if (!fsx.tryLock(this.fd!, true)) continue;
        if (ready()) {
          this.depth = depth;
          this.holdNumber = ++acquisitions;
          return;
        }
        fsx.unlock(this.fd!);
      }
    } finally {
      fs.closeSync(queue);
    }
  }

  /** release() that never lingers: the lock is free for others the moment this returns (before a wait on the network). */
  releaseNow(): void {
    if (this.depth === 0) return;
    if (--this.depth > 0) return;
    this.forgetLinger();
    fsx.unlock(this.fd!);
  }

  release(): void {
    if (this.depth === 0) return;
    if (--this.depth > 0) return;
    if (lingerBound() > 0) {
      this.linger();
      return;
    }
    this.forgetLinger();
    fsx.unlock(this.fd!);
  }

  private forgetLinger(): void {
    this.lingerSince = undefined;
    if (lingeringByPath.get(this.path) === this) lingeringByPath.delete(this.path);
  }

  private linger(): void {
    if (this.lingerSince === undefined) {
      this.lingerSince = Date.now();
      lingeringByPath.set(this.path, this);
    }
    this.lingerLimit = lingerBound();
    if (!endScheduled) {
      endScheduled = true;
      setImmediate(() => {
        endScheduled = false;
        endLingering();
      }).unref();
    }
  }

  /** Unlocks a lingering hold nobody is inside (in use, it lingers on from when it started). */
  endLinger(): void {
    if (this.lingerSince === undefined || this.depth > 0) return;
    this.forgetLinger();
    fsx.unlock(this.fd!);
  }

  /** Lets go of the lock file (the handle is done with). */
  close(): void {
    this.forgetLinger();
    if (this.fd !== undefined && (this.depth > 0 || this.lingerSince !== undefined)) fsx.unlock(this.fd);
    this.depth = 0;
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    if (this.queueFd !== undefined) fs.closeSync(this.queueFd);
    this.queueFd = undefined;
  }

  get held(): boolean {
    return this.depth > 0;
  }

  /** True while the lock lingers after a release inside lingering(). */
  get lingers(): boolean {
    return this.lingerSince !== undefined;
  }

  run<T>(work: () => T): T {
    this.acquire();
    try {
      return work();
    } finally {
      this.release();
    }
  }

  /**
   * run() for asynchronous work: the lock is held until its promise settles,
   * across every await in it. Reentrant like run(): holds are counted per process,
   * not per flow of work, so two flows awaiting under one lock in one process would
   * both be inside it; a lock serves one flow at a time. It waits as acquire()
   * does, stopping the event loop: for one-shot commands; a long-lived process
   * takes the lock with acquireWithoutBlocking() first, and what it runs inside
   * finds it held.
   */
  async runAsync<T>(work: () => Promise<T>): Promise<T> {
    this.acquire();
    try {
      return await work();
    } finally {
      this.release();
    }
  }
}
