// Reads and writes on a file descriptor that may be a pipe in non-blocking mode
// (another process, or Node itself, may have set O_NONBLOCK on an inherited
// standard stream): EAGAIN means "not yet", never "done", so it is waited out.
import fs from 'node:fs';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

function retryable(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR';
}

/** One read of up to `length` bytes into `buffer` at `offset`; 0 only at the end of the input. */
export function readSome(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null = null): number {
  for (let pause = 1; ; pause = Math.min(pause * 2, 16)) {
    try {
      return fs.readSync(fd, buffer, offset, length, position);
    } catch (error) {
      if (!retryable(error)) throw error;
      Atomics.wait(sleeper, 0, 0, pause);
    }
  }
}

/** Reads until `length` bytes are in `buffer` or the input ends; returns how many arrived. */
export function readFull(fd: number, buffer: Uint8Array, length: number, position: number | null = null): number {
  let done = 0;
  while (done < length) {
    const n = readSome(fd, buffer, done, length - done, position === null ? null : position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Writes all of `buffer[0, length)`, however many calls a slow reader or a full pipe takes. */
export function writeFull(fd: number, buffer: Uint8Array, length: number, position: number | null = null): void {
  let done = 0;
  for (let pause = 1; done < length;) {
    try {
      done += fs.writeSync(fd, buffer, done, length - done, position === null ? null : position + done);
      pause = 1;
    } catch (error) {
      if (!retryable(error)) throw error;
      Atomics.wait(sleeper, 0, 0, pause);
      pause = Math.min(pause * 2, 16);
    }
  }
}
