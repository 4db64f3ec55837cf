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
  const fromEnv = Number(process.env.MARKLOG_LOCK_TIMEOUT_MS);
  return Number.isFinite(fromEnv) && fromEnv >= 0 ? fromEnv : DEFAULT_TIMEOUT_MS;
}

/** A reentrant (within this process) exclusive lock on one file. */
export class FileLock {
  private fd: number | undefined;
  private depth = 0;

  constructor(readonly path: string) {}

  acquire(): void {
    if (this.depth > 0) {
      this.depth++;
      return;
    }
    const fd = fs.openSync(this.path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    const limit = timeoutMs();
    const start = Date.now();
    let pause = 1;
    while (!fsx.tryLock(fd, true)) {
      const waited = Date.now() - start;
      if (waited >= limit) {
        fs.closeSync(fd);
        throw new LockTimeoutError(this.path, waited);
      }
      sleep(Math.min(pause, limit - waited));
      pause = Math.min(pause * 2, 25);
    }
    this.fd = fd;
    this.depth = 1;
  }

  release(): void {
    if (this.depth === 0) return;
    if (--this.depth > 0) return;
    const fd = this.fd!;
    this.fd = undefined;
    fsx.unlock(fd);
    fs.closeSync(fd);
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
