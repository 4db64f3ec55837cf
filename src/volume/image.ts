// A volume image: a raw file read through memory-mapped windows (so volumes larger
// than a Buffer, and than 4 GiB, work without a copy through the kernel) and
// written with pwrite. Windows come from the project's addon: its map takes a
// 64-bit offset, which mmap-io's does not.
import fs from 'node:fs';
import {fsx} from '../native/fsx.js';
import {VolumeIoError, OutOfRangeError} from '../errors.js';

export const WINDOW_SIZE = 64 * 1024 * 1024;
const MAX_OPEN_WINDOWS = 8;

export class VolumeImage {
  private readonly windows = new Map<number, Buffer>();

  private constructor(readonly file: string, readonly fd: number, readonly capacity: number) {}

  static open(file: string, capacity: number): VolumeImage {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r+');
    } catch (error) {
      throw new VolumeIoError(`cannot open volume image ${file}: ${(error as NodeJS.ErrnoException).code}`);
    }
    const size = fs.fstatSync(fd).size;
    if (size < capacity) {
      fs.closeSync(fd);
      throw new VolumeIoError(`volume image ${file} is ${size} bytes but its table says ${capacity}`, 'the image was replaced or truncated; restore it or re-import it');
    }
    return new VolumeImage(file, fd, capacity);
  }

  /** Creates a sparse image file of the given size; fails if the file exists. */
  static create(file: string, capacity: number): void {
    let fd: number;
    try {
      fd = fs.openSync(file, 'wx', 0o600);
    } catch (error) {
      throw new VolumeIoError(`cannot create volume image ${file}: ${(error as NodeJS.ErrnoException).code}`);
    }
    try {
      fs.ftruncateSync(fd, capacity);
    } catch (error) {
      fs.rmSync(file, {force: true});
      throw new VolumeIoError(`cannot size volume image ${file} to ${capacity} bytes: ${(error as NodeJS.ErrnoException).code}`);
    } finally {
      fs.closeSync(fd);
    }
  }

  checkRange(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0 || offset + length > this.capacity) {
      throw new OutOfRangeError(`range ${offset}+${length} is outside the volume (capacity ${this.capacity} bytes)`);
    }
  }

  private window(index: number): Buffer {
    const cached = this.windows.get(index);
    if (cached) {
      this.windows.delete(index);
      this.windows.set(index, cached);
      return cached;
    }
    const start = index * WINDOW_SIZE;
    const size = Math.min(WINDOW_SIZE, this.capacity - start);
    const window = fsx.map(this.fd, start, size);
    this.windows.set(index, window);
    if (this.windows.size > MAX_OPEN_WINDOWS) this.windows.delete(this.windows.keys().next().value!);
    return window;
  }

  /** Calls `visit` for each piece of [offset, offset+length) that lies within one window. */
  private each(offset: number, length: number, visit: (window: Buffer, at: number, done: number, size: number) => void): void {
    let done = 0;
    while (done < length) {
      const position = offset + done;
      const index = Math.floor(position / WINDOW_SIZE);
      const at = position - index * WINDOW_SIZE;
      const window = this.window(index);
      const size = Math.min(length - done, window.length - at);
      visit(window, at, done, size);
      done += size;
    }
  }

  /**
   * Writes go through pwrite, not the mapping: filling a hole of a sparse image on
   * a full file system must fail with ENOSPC, where a store into a mapping would
   * kill the process with SIGBUS. The page cache is shared, so mapped reads see it.
   */
  write(offset: number, data: Uint8Array): void {
    this.checkRange(offset, data.length);
    let done = 0;
    try {
      while (done < data.length) done += fs.writeSync(this.fd, data, done, data.length - done, offset + done);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new VolumeIoError(`writing ${data.length} bytes at ${offset} of ${this.file} failed: ${code}`,
        code === 'ENOSPC' ? 'the file system is full: free space, then retry' : undefined);
    }
  }

  read(offset: number, length: number): Buffer {
    this.checkRange(offset, length);
    const out = Buffer.allocUnsafe(length);
    this.each(offset, length, (window, at, done, size) => {
      window.copy(out, done, at, at + size);
    });
    return out;
  }

  /** Forces every change to the image to stable storage. */
  syncAll(): void {
    fs.fdatasyncSync(this.fd);
  }

  /** The next offset at or after `offset` holding data, or `capacity` when the rest is a hole. */
  nextData(offset: number): number {
    const at = fsx.seek(this.fd, offset, true);
    return at < 0 || at > this.capacity ? this.capacity : at;
  }

  /** The next offset at or after `offset` in a hole (the capacity counts as one). */
  nextHole(offset: number): number {
    const at = fsx.seek(this.fd, offset, false);
    return at < 0 || at > this.capacity ? this.capacity : at;
  }

  /** Makes a range read as zeros, deallocating it where the file system can. */
  zero(offset: number, length: number): void {
    this.checkRange(offset, length);
    if (length === 0 || this.nextData(offset) >= offset + length) return;
    if (fsx.punchHole(this.fd, offset, length)) return;
    const zeros = Buffer.alloc(Math.min(length, 1024 * 1024));
    for (let done = 0; done < length; done += zeros.length) {
      this.write(offset + done, zeros.subarray(0, Math.min(zeros.length, length - done)));
    }
  }

  close(): void {
    this.windows.clear();
    fs.closeSync(this.fd);
  }
}
