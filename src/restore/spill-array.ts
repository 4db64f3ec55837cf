// A growable table of fixed-width rows of numbers whose memory does not grow with
// it: rows fill chunks, and once more than a few chunks are complete the older ones
// go to a scratch file that is unlinked as soon as it is opened (nothing is left
// behind, even by a process that dies). A log of a million records is planned in a
// few MiB this way (issue 13: peak RSS ≤ 64 MiB at 1,000,000 records); a small log
// never touches the file.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Rows per chunk. */
export const CHUNK_ROWS = 4096;
/** Complete chunks kept in memory before spilling; and chunks read back kept cached. */
const KEPT_CHUNKS = 2;

export class SpillArray {
  private readonly chunks: (Float64Array | 'spilled')[] = [];
  private filling: Float64Array;
  private filled = 0;
  /** Complete chunks still in memory: always the newest ones. */
  private inMemory = 0;
  private fd: number | undefined;
  private readonly cache: {number: number; chunk: Float64Array}[] = [];
  private readonly chunkBytes: number;

  /** `stride`: numbers per row; `scratchDir`: where the scratch file goes, if one is needed. */
  constructor(readonly stride: number, private readonly scratchDir: string) {
    this.filling = new Float64Array(stride * CHUNK_ROWS);
    this.chunkBytes = stride * CHUNK_ROWS * 8;
  }

  get length(): number {
    return this.chunks.length * CHUNK_ROWS + this.filled;
  }

  /** Whether any chunk went to the scratch file. */
  get spilled(): boolean {
    return this.fd !== undefined;
  }

  /** Appends a row; returns its index. `values` must hold `stride` numbers. */
  push(...values: number[]): number {
    const index = this.length;
    this.filling.set(values, this.filled * this.stride);
    if (++this.filled === CHUNK_ROWS) this.complete();
    return index;
  }

  /** The chunk holding row `index` (valid until the next call); the row starts at offsetOf(index) in it. */
  chunkOf(index: number): Float64Array {
    if (index < 0 || index >= this.length) throw new RangeError(`row ${index} of ${this.length}`);
    const number = Math.floor(index / CHUNK_ROWS);
    if (number === this.chunks.length) return this.filling;
    const kept = this.chunks[number];
    return kept === 'spilled' ? this.readBack(number) : kept;
  }

  /** Where row `index` starts in its chunk. */
  offsetOf(index: number): number {
    return (index % CHUNK_ROWS) * this.stride;
  }

  /** Releases the scratch file. The array must not be used after. */
  dispose(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    this.cache.length = 0;
  }

  private complete(): void {
    this.chunks.push(this.filling);
    this.filled = 0;
    this.inMemory++;
    // A spilled chunk's memory becomes the next one to fill: garbage chunks waiting
    // for the collector would otherwise raise the peak by tens of MiB.
    this.filling = this.inMemory > KEPT_CHUNKS ? this.spill(this.chunks.length - this.inMemory) : new Float64Array(this.stride * CHUNK_ROWS);
  }

  /** Writes chunk `number` to the scratch file; returns its memory for reuse. */
  private spill(number: number): Float64Array {
    if (this.fd === undefined) {
      const file = path.join(this.scratchDir, `.marklog-plan-${process.pid}-${crypto.randomBytes(6).toString('hex')}.tmp`);
      this.fd = fs.openSync(file, 'wx+', 0o600);
      fs.unlinkSync(file);
    }
    const chunk = this.chunks[number] as Float64Array;
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(this.fd, bytes, done, bytes.length - done, number * this.chunkBytes + done);
    this.chunks[number] = 'spilled';
    this.inMemory--;
    return chunk;
  }

  private readBack(number: number): Float64Array {
    // Two chunks cached, most recently read first: no allocation on a hit.
    const cache = this.cache;
    if (cache.length > 0 && cache[0].number === number) return cache[0].chunk;
    if (cache.length > 1 && cache[1].number === number) {
      cache.reverse();
      return cache[0].chunk;
    }
    const entry = cache.length < KEPT_CHUNKS ? {number, chunk: new Float64Array(this.stride * CHUNK_ROWS)} : cache.pop()!;
    entry.number = number;
    const bytes = Buffer.from(entry.chunk.buffer, entry.chunk.byteOffset, entry.chunk.byteLength);
    let done = 0;
    while (done < bytes.length) {
      const read = fs.readSync(this.fd!, bytes, done, bytes.length - done, number * this.chunkBytes + done);
      if (read === 0) throw new Error(`scratch file ended inside chunk ${number}`);
      done += read;
    }
    cache.unshift(entry);
    return entry.chunk;
  }
}
