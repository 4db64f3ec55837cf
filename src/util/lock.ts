// Inter-process lock on a site: flock(2) on the site's lock file. The kernel drops
// it when the holder dies (kill -9 included), so a crashed command never blocks
// the next one; a live holder is waited for, with a bound.
import fs from 'node:fs';
import {fsx} from '../native/fsx.js';
import {LockTimeoutError} from '../errors.js';

const DEFAULT_TIMEOUT_MS = 30_000;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function sleep(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
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
  private depth = 0;

  constructor(readonly path: string) {}

  private get queuePath(): string {
    return `${this.path}.queue`;
  }

  acquire(): void {
    if (this.depth > 0) {
      this.depth++;
      return;
    }
    // The file stays open between holds: opening it costs as much as the lock itself.
    this.fd ??= fs.openSync(this.path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    if (!fsx.tryLock(this.fd, true)) this.waitFor(this.fd);
    this.depth = 1;
  }

  private waitFor(fd: number): void {
    const queue = fs.openSync(this.queuePath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    fsx.tryLock(queue, false);
    try {
      const limit = timeoutMs();
      const start = Date.now();
      let pause = 1;
      while (!fsx.tryLock(fd, true)) {
        const waited = Date.now() - start;
        if (waited >= limit) throw new LockTimeoutError(this.path, waited);
        sleep(Math.min(pause, limit - waited));
        pause = Math.min(pause * 2, 8);
      }
    } finally {
      fs.closeSync(queue);
    }
  }

  /** True while another process waits for this lock. */
  othersWaiting(): boolean {
    let queue: number;
    try {
      queue = fs.openSync(this.queuePath, fs.constants.O_RDWR);
    } catch {
      return false;
    }
    try {
      if (!fsx.tryLock(queue, true)) return true;
      fsx.unlock(queue);
      return false;
    } finally {
      fs.closeSync(queue);
    }
  }

  /** Between two holds: lets waiting processes take the lock first (bounded). */
  yieldToWaiters(maxMs = 250): void {
    const start = Date.now();
    while (this.othersWaiting() && Date.now() - start < maxMs) sleep(1);
  }

  release(): void {
    if (this.depth === 0) return;
    if (--this.depth > 0) return;
    fsx.unlock(this.fd!);
  }

  /** Lets go of the lock file (the handle is done with). */
  close(): void {
    if (this.depth > 0) fsx.unlock(this.fd!);
    this.depth = 0;
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  get held(): boolean {
    return this.depth > 0;
  }

  run<T>(work: () => T): T {
    this.acquire();
    try {
      return work();
    } finally {
      this.release();
    }
  }
}
