// What an NBD client was told, block by block: the ledger a crash test holds a volume
// to. Every write gets a sequence number and fills its blocks with bytes that name the
// write and the block, so whatever a block holds after a crash says which write put it
// there (a write of zeros, TRIM or WRITE_ZEROES, is known by its zeros). Per block the
// ledger keeps the last acknowledged write, the one a completed FLUSH covers, and the one
// still in flight.
import crypto from 'node:crypto';

const MAGIC = 0x4d4c4b42; // "MLKB"
/** The block held its base bytes, zeros, or bytes no write of this ledger made. */
export const BASE = -1;
export const FOREIGN = -2;
export const ZEROS = -3;

export interface Violation {
  block: number;
  /** The write whose bytes the block holds (BASE, FOREIGN or a sequence number). */
  seen: number;
  acknowledged: number;
  flushed: number;
  /** BASE when no write to the block was in flight. */
  inFlight: number;
}

export class WriteLedger {
  readonly blocks: number;
  private readonly acked: Int32Array;
  private flushedAt: Int32Array;
  private readonly inFlight: Int32Array;
  private readonly image: Buffer;
  private seq = 0;
  private pendingCount = 0;
  private readonly zeroWrites = new Set<number>();
  private readonly zeroBlock: Buffer;

  constructor(readonly seed: number, private readonly base: Buffer, readonly blockSize = 4096) {
    this.blocks = Math.floor(base.length / blockSize);
    this.acked = new Int32Array(this.blocks).fill(BASE);
    this.flushedAt = new Int32Array(this.blocks).fill(BASE);
    this.inFlight = new Int32Array(this.blocks).fill(BASE);
    this.image = Buffer.from(base);
    this.zeroBlock = Buffer.alloc(blockSize);
  }

  /** The bytes write `seq` puts in `block`: a header naming both, then a fill only they give (or zeros). */
  blockData(seq: number, block: number): Buffer {
    const out = Buffer.alloc(this.blockSize);
    if (this.zeroWrites.has(seq)) return out;
    out.writeUInt32LE(MAGIC, 0);
    out.writeUInt32LE(this.seed >>> 0, 4);
    out.writeUInt32LE(seq, 8);
    out.writeUInt32LE(block, 12);
    let state = (Math.imul(this.seed, 0x9e3779b1) ^ Math.imul(seq + 1, 0x85ebca6b) ^ Math.imul(block + 1, 0xc2b2ae35)) >>> 0 || 1;
    for (let at = 16; at < out.length; at += 4) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      out.writeUInt32LE(state >>> 0, at);
    }
    return out;
  }

  /** True when none of these blocks has a write in flight. */
  free(first: number, count: number): boolean {
    for (let b = first; b < first + count; b++) if (this.inFlight[b] !== BASE) return false;
    return true;
  }

  get idle(): boolean {
    return this.pendingCount === 0;
  }

  /** A write of `count` blocks from `first` (of zeros with `zeros`) is sent: its number, place and bytes. */
  begin(first: number, count: number, zeros = false): {seq: number; offset: number; length: number; data: Buffer} {
    const seq = this.seq++;
    if (zeros) this.zeroWrites.add(seq);
    const parts: Buffer[] = [];
    for (let b = first; b < first + count; b++) {
      this.inFlight[b] = seq;
      if (!zeros) parts.push(this.blockData(seq, b));
    }
    this.pendingCount++;
    return {seq, offset: first * this.blockSize, length: count * this.blockSize, data: Buffer.concat(parts)};
  }

  /** The server acknowledged it. */
  acknowledge(seq: number, first: number, count: number): void {
    for (let b = first; b < first + count; b++) {
      this.acked[b] = seq;
      this.inFlight[b] = BASE;
      this.blockData(seq, b).copy(this.image, b * this.blockSize);
    }
    this.pendingCount--;
  }

  /** Taken when a FLUSH is sent: what it will cover once it completes. */
  flushPoint(): Int32Array {
    return Int32Array.from(this.acked);
  }

  /** The FLUSH sent at `point` completed. */
  flushed(point: Int32Array): void {
    this.flushedAt = point;
  }

  /** What the volume must hold now, if nothing is in flight: the base and every acknowledged write. */
  digest(): string {
    return crypto.createHash('sha256').update(this.image).digest('hex');
  }

  /** Which write's bytes a block of the volume holds. */
  seen(volume: Buffer, block: number): number {
    const bytes = volume.subarray(block * this.blockSize, (block + 1) * this.blockSize);
    if (bytes.readUInt32LE(0) === MAGIC && bytes.readUInt32LE(4) === this.seed >>> 0 && bytes.readUInt32LE(12) === block) {
      const seq = bytes.readUInt32LE(8);
      if (seq < this.seq && bytes.equals(this.blockData(seq, block))) return seq;
    }
    if (bytes.equals(this.zeroBlock)) return ZEROS;
    return bytes.equals(this.base.subarray(block * this.blockSize, (block + 1) * this.blockSize)) ? BASE : FOREIGN;
  }

  /** Whether a block seen holding `seen` holds what write `seq` (or BASE) put there. */
  private holds(seen: number, seq: number): boolean {
    return seen === seq || (seen === ZEROS && this.zeroWrites.has(seq));
  }

  /**
   * Holds a volume read after a crash to the ledger. `flush`: blocks that lost a write a
   * completed FLUSH covered (what NBD promises). `acknowledged`: blocks that lost an
   * acknowledged write (what marklog promises when only the process dies). A block may
   * also hold the write that was in flight, or a later one than the flush covered.
   */
  check(volume: Buffer): {flush: Violation[]; acknowledged: Violation[]} {
    const flush: Violation[] = [];
    const acknowledged: Violation[] = [];
    for (let block = 0; block < this.blocks; block++) {
      const seen = this.seen(volume, block);
      const row = {block, seen, acknowledged: this.acked[block], flushed: this.flushedAt[block], inFlight: this.inFlight[block]};
      const known = this.holds(seen, row.acknowledged) || (row.inFlight !== BASE && this.holds(seen, row.inFlight));
      if (!known) acknowledged.push(row);
      // The acknowledged write and the one in flight are never older than what the FLUSH covered.
      if (!known && !this.holds(seen, row.flushed)) flush.push(row);
    }
    return {flush, acknowledged};
  }

  /** After a crash: each write that was in flight counts as what the volume shows. */
  settle(volume: Buffer): {landed: number; notLanded: number} {
    let landed = 0;
    let notLanded = 0;
    for (let block = 0; block < this.blocks; block++) {
      if (this.inFlight[block] === BASE) continue;
      if (this.holds(this.seen(volume, block), this.inFlight[block])) {
        this.acked[block] = this.inFlight[block];
        this.blockData(this.inFlight[block], block).copy(this.image, block * this.blockSize);
        landed++;
      } else {
        notLanded++;
      }
      this.inFlight[block] = BASE;
    }
    this.pendingCount = 0;
    return {landed, notLanded};
  }
}
