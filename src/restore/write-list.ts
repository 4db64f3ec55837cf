// The write records a scan found, in log order, kept as rows of numbers (and the
// format 2 block CRCs in a second table) rather than one object each: an object with
// its Uint32Array costs about 0.5 KiB, so a million records would need half a GiB.
// Both tables spill to a scratch file past a few chunks (spill-array.ts).
import type {WriteLayoutV2} from '../format/log-record-v2.js';
import {CHUNK_ROWS, SpillArray} from './spill-array.js';

export interface ScannedWrite {
  logId: number;
  ldev: number;
  address: number;
  length: number;
  /** Where the written bytes sit in the log; for a zero record (no bytes), logLdev is ZEROS. */
  logLdev: number;
  source: number;
  /** The record's own offset in its log volume (what damage reports name). */
  recordAt: number;
  /** Whether the scan read and checked the bytes; if not, `layout` (format 2) checks the ones used. */
  dataChecked: boolean;
  layout?: WriteLayoutV2;
}

// Row: logId, ldev, address, length, logLdev, source, recordAt, flags, blockSize, first CRC, CRC count.
export const STRIDE = 11;
/** Where each field sits in a row (for the planning loops that read chunks directly). */
export const Field = {logId: 0, ldev: 1, address: 2, length: 3, logLdev: 4, source: 5} as const;
const CHECKED = 1;
const HAS_LAYOUT = 2;

export class WriteList {
  private readonly rows: SpillArray;
  private readonly crcs: SpillArray;

  constructor(scratchDir: string) {
    this.rows = new SpillArray(STRIDE, scratchDir);
    this.crcs = new SpillArray(1, scratchDir);
  }

  get length(): number {
    return this.rows.length;
  }

  /** Whether the list outgrew memory and went (partly) to its scratch file. */
  get spilled(): boolean {
    return this.rows.spilled || this.crcs.spilled;
  }

  push(write: ScannedWrite): void {
    const layout = write.layout;
    const firstCrc = this.crcs.length;
    if (layout) for (const crc of layout.blockCrcs) this.crcs.push(crc);
    const flags = (write.dataChecked ? CHECKED : 0) | (layout ? HAS_LAYOUT : 0);
    this.rows.push(write.logId, write.ldev, write.address, write.length, write.logLdev, write.source, write.recordAt, flags,
      layout?.blockSize ?? 0, firstCrc, layout?.blockCrcs.length ?? 0);
  }

  /** Whether every write was checked by the scan or carries block CRCs to be checked by. */
  everyCheckable(): boolean {
    for (let i = 0; i < this.length; i++) {
      if ((this.rows.chunkOf(i)[this.rows.offsetOf(i) + 7] & (CHECKED | HAS_LAYOUT)) === 0) return false;
    }
    return true;
  }

  /** Whether write `index` still needs its bytes checked where they are used. */
  uncheckedAt(index: number): boolean {
    return (this.rows.chunkOf(index)[this.rows.offsetOf(index) + 7] & CHECKED) === 0;
  }

  /** Where write `index`'s bytes end in its log volume. */
  dataEndAt(index: number): number {
    const [chunk, at] = [this.rows.chunkOf(index), this.rows.offsetOf(index)];
    return chunk[at + 5] + chunk[at + 3];
  }

  /**
   * The rows in log order, a chunk at a time: `rows` rows of STRIDE numbers (fields
   * at Field offsets), the first being write `first`. The planning passes over a large
   * log read them in place: no object, and no boxed number, per write.
   */
  *chunks(): Generator<{chunk: Float64Array; first: number; rows: number}> {
    const length = this.length;
    for (let first = 0; first < length; first += CHUNK_ROWS) yield {chunk: this.rows.chunkOf(first), first, rows: Math.min(CHUNK_ROWS, length - first)};
  }

  /** Each write's log ID, volume and length in log order; `visit` returns false to stop. */
  eachTarget(visit: (index: number, logId: number, ldev: number, length: number) => boolean | void): void {
    for (const {chunk, first, rows} of this.chunks()) {
      for (let row = 0, at = 0; row < rows; row++, at += STRIDE) {
        if (visit(first + row, chunk[at], chunk[at + 1], chunk[at + 3]) === false) return;
      }
    }
  }

  /**
   * Write `index`. `into`: an object to fill instead of a new one (its block CRCs
   * array is reused too), for loops over many writes that keep none.
   */
  at(index: number, into?: ScannedWrite): ScannedWrite {
    const [chunk, at] = [this.rows.chunkOf(index), this.rows.offsetOf(index)];
    const write = into ?? ({} as ScannedWrite);
    write.logId = chunk[at];
    write.ldev = chunk[at + 1];
    write.address = chunk[at + 2];
    write.length = chunk[at + 3];
    write.logLdev = chunk[at + 4];
    write.source = chunk[at + 5];
    write.recordAt = chunk[at + 6];
    write.dataChecked = (chunk[at + 7] & CHECKED) !== 0;
    if ((chunk[at + 7] & HAS_LAYOUT) === 0) {
      write.layout = undefined;
      return write;
    }
    const blockSize = chunk[at + 8];
    const firstCrc = chunk[at + 9];
    const count = chunk[at + 10];
    // With `into`, its layout and CRC array are refilled in place.
    const layout = into?.layout ?? ({} as WriteLayoutV2);
    if (!into || !layout.blockCrcs || layout.blockCrcs.length < count) layout.blockCrcs = new Uint32Array(count);
    for (let i = 0; i < count; i++) layout.blockCrcs[i] = this.crcs.chunkOf(firstCrc + i)[this.crcs.offsetOf(firstCrc + i)];
    layout.ldev = write.ldev;
    layout.address = write.address;
    layout.length = write.length;
    layout.blockSize = blockSize;
    layout.dataOffset = write.source - write.recordAt;
    write.layout = layout;
    return write;
  }

  *[Symbol.iterator](): Generator<ScannedWrite> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }

  dispose(): void {
    this.rows.dispose();
    this.crcs.dispose();
  }
}
