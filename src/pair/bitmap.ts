// The differential bitmap of a pair (patent: differential bitmap 123) and its copy
// pointer, kept in a memory-mapped file so every bit flip is one store, survives
// the process, and the copy resumes where it stopped.
import fs from 'node:fs';
import {fsx} from '../native/fsx.js';
import {CorruptBitmapError} from '../errors.js';
import {writeFileAtomic} from '../util/atomic-file.js';
import {
  BITMAP_HEADER_SIZE, BitmapHeader, bitmapFileSize, chunkCountFor, decodeBitmapHeader, encodeBitmapHeader,
  type BitmapGeometry,
} from '../format/bitmap-format.js';

const POPCOUNT = Uint8Array.from({length: 256}, (_, n) => {
  let bits = 0;
  for (let v = n; v; v >>= 1) bits += v & 1;
  return bits;
});

const openBitmaps = new Map<string, {identity: string; hold: number; bitmap: PairBitmap}>();

export class PairBitmap {
  private constructor(
    readonly file: string,
    private readonly fd: number,
    private readonly map: Buffer,
    readonly geometry: BitmapGeometry,
  ) {}

  /**
   * Writes a new bitmap with the copy pointer at 0: every bit set for a pair
   * create (Fig. 14, step 1), or every bit clear for tracking from now on.
   */
  static create(file: string, capacity: number, chunkSize: number, allDirty = true): void {
    const chunkCount = chunkCountFor(capacity, chunkSize);
    const content = Buffer.alloc(bitmapFileSize(chunkCount), 0);
    encodeBitmapHeader(content, {chunkSize, capacity, chunkCount, copyPointer: allDirty ? 0 : chunkCount});
    if (allDirty) {
      content.fill(0xff, BITMAP_HEADER_SIZE);
      const tail = chunkCount % 8;
      if (tail) content[content.length - 1] = (1 << tail) - 1;
    }
    writeFileAtomic(file, content);
    // Written anew in this process: the next open must look at the new file.
    openBitmaps.get(file)?.bitmap.release();
    openBitmaps.delete(file);
  }

  /** The dirty chunks as byte ranges, adjacent chunks merged. */
  dirtyRanges(): {offset: number; length: number}[] {
    const ranges: {offset: number; length: number}[] = [];
    let chunk = this.nextDirty(0);
    while (chunk < this.chunkCount) {
      let end = chunk + 1;
      while (end < this.chunkCount && this.isSet(end)) end++;
      const offset = chunk * this.chunkSize;
      ranges.push({offset, length: Math.min(end * this.chunkSize, this.geometry.capacity) - offset});
      chunk = this.nextDirty(end);
    }
    return ranges;
  }

  clearAll(): void {
    this.map.fill(0, BITMAP_HEADER_SIZE, BITMAP_HEADER_SIZE + Math.ceil(this.chunkCount / 8));
  }

  /**
   * A handle on the bitmap file, kept open and mapped for the life of the process:
   * a mapping is released only by a garbage collection, so mapping the file for
   * every host write would pile mappings up (and costs four system calls). The
   * cache follows the file: a replaced file (new inode) gets a new handle.
   * `hold` is the number of the site lock's current hold (FileLock.hold): within
   * one hold nobody else can replace the file, so it is not looked at again.
   */
  static open(file: string, hold = 0): PairBitmap {
    const cached = openBitmaps.get(file);
    if (hold !== 0 && cached?.hold === hold) return cached.bitmap;
    let identity: string;
    try {
      const stat = fs.statSync(file, {bigint: true});
      identity = `${stat.ino}:${stat.size}`;
    } catch (error) {
      throw new CorruptBitmapError(`pair bitmap ${file} cannot be opened (${(error as NodeJS.ErrnoException).code})`);
    }
    if (cached?.identity === identity) {
      cached.hold = hold;
      return cached.bitmap;
    }
    cached?.bitmap.release();
    const bitmap = PairBitmap.openFile(file);
    openBitmaps.set(file, {identity, hold, bitmap});
    return bitmap;
  }

  private static openFile(file: string): PairBitmap {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r+');
    } catch (error) {
      throw new CorruptBitmapError(`pair bitmap ${file} cannot be opened (${(error as NodeJS.ErrnoException).code})`);
    }
    const size = fs.fstatSync(fd).size;
    const map = size >= BITMAP_HEADER_SIZE
      ? fsx.mapShared(fd, 0, size)
      : fs.readFileSync(fd);
    const decoded = decodeBitmapHeader(map);
    if ('reason' in decoded) {
      fs.closeSync(fd);
      throw new CorruptBitmapError(`pair bitmap ${file}: ${decoded.reason}`, 'run `marklog verify`; a resync after `pair suspend` rebuilds the copy');
    }
    const {chunkSize, capacity, chunkCount} = decoded.fields;
    return new PairBitmap(file, fd, map, {chunkSize, capacity, chunkCount});
  }

  get chunkSize(): number {
    return this.geometry.chunkSize;
  }

  get chunkCount(): number {
    return this.geometry.chunkCount;
  }

  /** The pointer as one aligned 64-bit word: a reader or a crash never sees half of it. */
  private get pointerWord(): BigUint64Array {
    return new BigUint64Array(this.map.buffer, this.map.byteOffset + BitmapHeader.copyPointer, 1);
  }

  get copyPointer(): number {
    return Number(this.pointerWord[0]);
  }

  set copyPointer(chunk: number) {
    this.pointerWord[0] = BigInt(chunk);
  }

  isSet(chunk: number): boolean {
    return (this.map[BITMAP_HEADER_SIZE + (chunk >> 3)] & (1 << (chunk & 7))) !== 0;
  }

  set(chunk: number): void {
    this.map[BITMAP_HEADER_SIZE + (chunk >> 3)] |= 1 << (chunk & 7);
  }

  clear(chunk: number): void {
    this.map[BITMAP_HEADER_SIZE + (chunk >> 3)] &= ~(1 << (chunk & 7));
  }

  /** Sets the bits of every chunk that [offset, offset+length) touches. */
  markRange(offset: number, length: number): void {
    if (length <= 0) return;
    const last = Math.floor((offset + length - 1) / this.chunkSize);
    for (let chunk = Math.floor(offset / this.chunkSize); chunk <= last; chunk++) this.set(chunk);
  }

  /** The first set bit at or after `from`, or chunkCount when none. */
  nextDirty(from: number): number {
    const bits = this.map;
    let chunk = from;
    while (chunk < this.chunkCount) {
      if ((chunk & 7) === 0 && bits[BITMAP_HEADER_SIZE + (chunk >> 3)] === 0) {
        chunk += 8;
        continue;
      }
      if (this.isSet(chunk)) return chunk;
      chunk++;
    }
    return this.chunkCount;
  }

  dirtyCount(): number {
    let count = 0;
    const end = BITMAP_HEADER_SIZE + Math.ceil(this.chunkCount / 8);
    for (let i = BITMAP_HEADER_SIZE; i < end; i++) count += POPCOUNT[this.map[i]];
    return count;
  }

  /** Bytes covered by a chunk (the last chunk may be short). */
  chunkLength(chunk: number): number {
    return Math.min(this.chunkSize, this.geometry.capacity - chunk * this.chunkSize);
  }

  flush(): void {
    fsx.syncShared(this.map);
  }

  /** Handles are shared and stay open (see open); closing is a no-op kept for readability at call sites. */
  close(): void {}

  private release(): void {
    fs.closeSync(this.fd);
  }
}
