// A volume image: a raw file read and written with pread and pwrite at 64-bit
// offsets. Memory-mapped windows were tried and measured worse here: each window
// is released only by a garbage collection, so a restore of a 256 MiB log held
// 350 MiB resident, a long run of writes exhausted the kernel's mapping limit, and
// the collections they caused cost more than the copies they saved (PERFORMANCE.md).
import fs from 'node:fs';
import {fsx} from '../native/fsx.js';
import {VolumeIoError, OutOfRangeError} from '../errors.js';


export class VolumeImage {
  private constructor(readonly file: string, readonly fd: number, readonly capacity: number) {}

  static open(file: string, capacity: number): VolumeImage {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r+');
    } catch (error) {
      throw new VolumeIoError(`cannot open volume image ${JSON.stringify(file)}: ${(error as NodeJS.ErrnoException).code}`);
    }
    const size = fs.fstatSync(fd).size;
    if (size < capacity) {
      fs.closeSync(fd);
      throw new VolumeIoError(`volume image ${JSON.stringify(file)} is ${size} bytes but its table says ${capacity}`, 'the image was replaced or truncated; restore it or re-import it');
    }
    return new VolumeImage(file, fd, capacity);
  }

  /** Creates a sparse image file of the given size; fails if the file exists. */
  static create(file: string, capacity: number): void {
    let fd: number;
    try {
      fd = fs.openSync(file, 'wx', 0o600);
    } catch (error) {
      throw new VolumeIoError(`cannot create volume image ${JSON.stringify(file)}: ${(error as NodeJS.ErrnoException).code}`);
    }
    try {
      fs.ftruncateSync(fd, capacity);
    } catch (error) {
      fs.rmSync(file, {force: true});
      throw new VolumeIoError(`cannot size volume image ${JSON.stringify(file)} to ${capacity} bytes: ${(error as NodeJS.ErrnoException).code}`);
    } finally {
      fs.closeSync(fd);
    }
  }

  checkRange(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0 || offset + length > this.capacity) {
      throw new OutOfRangeError(`range ${offset}+${length} is outside the volume (capacity ${this.capacity} bytes)`);
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
      throw this.writeError(error, data.length, offset);
    }
  }

  private writeError(error: unknown, length: number, offset: number): VolumeIoError {
    const code = (error as NodeJS.ErrnoException).code;
    return new VolumeIoError(`writing ${length} bytes at ${offset} of ${JSON.stringify(this.file)} failed: ${code}`,
      code === 'ENOSPC' ? 'the file system is full: free space, then retry' : undefined);
  }

  /** Writes buffers that lie one after the other, in one system call where it can. */
  writePieces(offset: number, pieces: Uint8Array[]): void {
    const total = pieces.reduce((sum, piece) => sum + piece.length, 0);
    this.checkRange(offset, total);
    let done: number;
    try {
      done = fs.writevSync(this.fd, pieces, offset);
    } catch (error) {
      throw this.writeError(error, total, offset);
    }
    if (done === total) return;
    // A short write (a signal, a full disk): the rest goes piece by piece, reporting the error.
    let at = offset;
    for (const piece of pieces) {
      const skip = Math.min(piece.length, Math.max(0, offset + done - at));
      if (skip < piece.length) this.write(at + skip, piece.subarray(skip));
      at += piece.length;
    }
  }

  read(offset: number, length: number): Buffer {
    // Checked before allocating: a length past the volume is OUT_OF_RANGE, not a RangeError of Buffer.
    this.checkRange(offset, length);
    const out = Buffer.allocUnsafe(length);
    this.readInto(offset, out, length);
    return out;
  }

  /** Reads `length` bytes at `offset` into the start of `out`. */
  readInto(offset: number, out: Uint8Array, length: number): void {
    this.checkRange(offset, length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, out, done, length - done, offset + done);
      if (n === 0) throw new VolumeIoError(`${JSON.stringify(this.file)} ended at ${offset + done}, inside its capacity`);
      done += n;
    }
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

  /** Deallocates a range so it reads as zeros; false (and nothing done) where the file system cannot. */
  deallocate(offset: number, length: number): boolean {
    this.checkRange(offset, length);
    return length === 0 || fsx.punchHole(this.fd, offset, length);
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
    fs.closeSync(this.fd);
  }
}
