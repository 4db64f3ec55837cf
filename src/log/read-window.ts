// Sequential reads of one log volume served from one reused buffer, refilled from
// the first byte asked for: a pass over a log reads it in large pieces, not with two
// system calls per record. A returned buffer is valid until the next read.
import type {VolumeImage} from '../volume/image.js';

const STREAM_WINDOW = 1024 * 1024;

export class ReadWindow {
  private buffer: Buffer | undefined;
  private start = 0;
  private length = 0;

  constructor(private readonly image: VolumeImage) {}

  /** `limit`: bytes at or past it are not needed, so a refill reads no further. */
  read(offset: number, length: number, limit = this.image.capacity): Buffer {
    if (this.buffer === undefined || offset < this.start || offset + length > this.start + this.length) {
      const want = Math.min(Math.max(STREAM_WINDOW, length), Math.max(limit, offset + length) - offset, this.image.capacity - offset);
      if (this.buffer === undefined || this.buffer.length < want) this.buffer = Buffer.allocUnsafe(want);
      this.image.readInto(offset, this.buffer, want);
      this.start = offset;
      this.length = want;
    }
    return this.buffer.subarray(offset - this.start, offset - this.start + length);
  }
}


/** Reads at any place into one buffer reused by the next read (grown as needed). */
export class ScratchReader {
  private buffer = Buffer.allocUnsafe(4096);

  constructor(private readonly image: VolumeImage) {}

  read(offset: number, length: number): Buffer {
    this.image.checkRange(offset, length);
    if (this.buffer.length < length) this.buffer = Buffer.allocUnsafe(Math.max(length, 2 * this.buffer.length));
    this.image.readInto(offset, this.buffer, length);
    return this.buffer.subarray(0, length);
  }
}
