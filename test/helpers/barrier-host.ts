// A host writing through `marklog serve` with many requests in flight on several
// connections, keeping what a barrier test needs to know of every write: when it was
// sent and when it was acknowledged (one clock, process.hrtime), which blocks it wrote,
// and bytes that name it, so a log record or a restored block says which write it is.
// Writes keep rewriting a hot region at the start of the volume and take the blocks
// after it once each, in order. Two writes in flight never share a block, so on any one
// block the writes are in the order they were sent (and acknowledged).
import {Rng} from './fuzz.js';
import type {PipelinedClient} from './nbd-pipelined-client.js';

export const BLOCK = 4096;
const MAGIC = 0x4d4b4252; // "MKBR"

/** Now, on the one clock every send, acknowledgement, spawn and exit is read from. */
export const now = (): bigint => process.hrtime.bigint();

export interface HostWrite {
  connection: number;
  seq: number;
  first: number;
  count: number;
  sent: bigint;
  /** Unset until the server acknowledged it. */
  acked?: bigint;
}

/** Who wrote a block's bytes: a write of this host, the volume's base, or neither. */
export type Writer = HostWrite | 'base' | 'foreign';

export const writeName = (w: Writer): string => typeof w === 'string' ? w : `write ${w.connection}:${w.seq} (blocks ${w.first}+${w.count})`;

/** The 4 KiB that `write` puts in `block`: 16 bytes naming both, repeated. */
export function blockBytes(connection: number, seq: number, block: number): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt32LE(connection, 4);
  header.writeUInt32LE(seq, 8);
  header.writeUInt32LE(block, 12);
  return Buffer.alloc(BLOCK, header);
}

export interface HostOptions {
  /** Requests each connection keeps in flight. */
  depth: number;
  /** Blocks per write at most. */
  maxBlocks: number;
  /** Blocks at the start of the volume that writes keep rewriting (so writes in flight overlap earlier ones). */
  hot: number;
  /**
   * The blocks after the hot ones are each written once, in order, at a pace that would reach
   * the reserve after `paceMs` (on any machine): each is either written before a mark or only after it.
   */
  paceMs: number;
  /** Blocks at the end kept from writes until openReserve(): some blocks are written only at the end, whatever the machine's speed. */
  reserve: number;
  seed: number;
}

export class BarrierHost {
  /** Every write sent, by connection and sequence number. */
  readonly writes: HostWrite[][];
  /** Per block, the writes that reached it in the order they were sent. */
  private readonly history: HostWrite[][];
  private readonly busy: Uint8Array;
  /** The next block never written after the hot ones. */
  private cursor: number;
  private readonly freshEnd: number;
  private readonly started = Date.now();
  private reserveOpen = false;
  private readonly rng: Rng;
  private stopping = false;
  private inFlight = 0;
  private onFull: (() => void) | undefined;
  private readonly failures: unknown[] = [];

  constructor(private readonly clients: PipelinedClient[], readonly blocks: number, private readonly base: Buffer, private readonly options: HostOptions) {
    this.writes = clients.map(() => []);
    this.history = Array.from({length: blocks}, () => []);
    this.busy = new Uint8Array(blocks);
    this.rng = new Rng(options.seed);
    this.cursor = options.hot;
    this.freshEnd = blocks - options.reserve;
  }

  /** Every connection writes, `depth` requests in flight each, until `stop()`; resolves once all are answered. */
  async run(): Promise<void> {
    await Promise.all(this.clients.map((client, connection) => this.keepWriting(client, connection)));
    if (this.failures.length > 0) throw this.failures[0];
  }

  stop(): void {
    this.stopping = true;
  }

  /** From now on fresh writes may take the reserved blocks too. */
  openReserve(): void {
    this.reserveOpen = true;
  }

  /**
   * Calls `then` once, right after the next send that leaves every connection with `depth`
   * requests in flight, before any reply is looked at: what is in flight then is known exactly.
   */
  whenFull(then: () => void): void {
    this.onFull = then;
  }

  private async keepWriting(client: PipelinedClient, connection: number): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    while (!this.stopping && this.failures.length === 0) {
      if (inFlight.size >= this.options.depth) {
        await Promise.race(inFlight);
        continue;
      }
      const place = this.choose();
      if (!place) {
        // Every block a write could take is in flight: wait for one to come back.
        if (inFlight.size === 0) throw new Error('no block free while nothing is in flight');
        await Promise.race(inFlight);
        continue;
      }
      const write: HostWrite = {connection, seq: this.writes[connection].length, first: place.first, count: place.count, sent: 0n};
      const data = Buffer.concat(Array.from({length: write.count}, (_, i) => blockBytes(connection, write.seq, write.first + i)));
      for (let b = write.first; b < write.first + write.count; b++) {
        this.busy[b] = 1;
        this.history[b].push(write);
      }
      this.writes[connection].push(write);
      write.sent = now();
      const request: Promise<void> = client.write(write.first * BLOCK, data).then(() => {
        write.acked = now();
        this.inFlight--;
      }, error => {
        this.failures.push(error);
        this.inFlight--;
      }).finally(() => {
        this.busy.fill(0, write.first, write.first + write.count);
        inFlight.delete(request);
      });
      inFlight.add(request);
      this.inFlight++;
      if (this.onFull && this.inFlight === this.options.depth * this.clients.length) {
        const then = this.onFull;
        this.onFull = undefined;
        then();
      }
      // Let replies in between sends, as a real host's submission thread would.
      if (inFlight.size % 4 === 0) await new Promise(resolve => setImmediate(resolve));
    }
    await Promise.all(inFlight);
  }

  /** Where the next write goes: the next fresh blocks when the pace allows, else hot blocks not in flight; none free, undefined. */
  private choose(): {first: number; count: number} | undefined {
    const {hot, paceMs, maxBlocks} = this.options;
    const count = this.rng.range(1, maxBlocks);
    const paced = hot + Math.floor((this.freshEnd - hot) * Math.min(1, (Date.now() - this.started) / paceMs));
    if (this.cursor + count <= Math.max(paced, this.reserveOpen ? this.blocks : 0)) {
      const first = this.cursor;
      this.cursor += count;
      return {first, count};
    }
    for (let attempt = 0; attempt < 16; attempt++) {
      const first = this.rng.int(hot - count + 1);
      if (!this.busy.subarray(first, first + count).some(b => b === 1)) return {first, count};
    }
    return undefined;
  }

  /** Every write sent, in no particular order. */
  all(): HostWrite[] {
    return this.writes.flat();
  }

  /** The writes that reached `block`, in the order sent. */
  writesTo(block: number): readonly HostWrite[] {
    return this.history[block];
  }

  /** The write a record's (or a block's) bytes name, or undefined when they name none. */
  named(bytes: Buffer, block?: number): HostWrite | undefined {
    if (bytes.length < 16 || bytes.readUInt32LE(0) !== MAGIC) return undefined;
    const write = this.writes[bytes.readUInt32LE(4)]?.[bytes.readUInt32LE(8)];
    if (!write || (block !== undefined && bytes.readUInt32LE(12) !== block)) return undefined;
    return write;
  }

  /** Who wrote this 4 KiB, read from `block`: checked byte for byte against what that writer put there. */
  writerOf(block: number, bytes: Buffer): Writer {
    if (bytes.equals(this.baseBlock(block))) return 'base';
    const write = this.named(bytes, block);
    if (write && bytes.equals(blockBytes(write.connection, write.seq, block))) return write;
    return 'foreign';
  }

  /** The volume's bytes in `block` before any write of this host. */
  baseBlock(block: number): Buffer {
    return this.base.subarray(block * BLOCK, (block + 1) * BLOCK);
  }

  /** What `block` must hold once every acknowledged write is in: the last one sent to it, or the base. */
  expectedNow(block: number): Buffer {
    const last = this.history[block].at(-1);
    return last ? blockBytes(last.connection, last.seq, block) : this.baseBlock(block);
  }
}
