// A host request in the write pipeline (write-pipeline.ts): what a front end submits,
// and the pipeline's record of it until its answer leaves.
import type {VolumeWrite} from './write-through.js';

export type HostRequest =
  | {kind: 'write'; ldev: number; offset: number; data: Uint8Array; fua?: boolean}
  /** Reads back as zeros (NBD TRIM and WRITE_ZEROES): sent on as writes of zeros, which a version 2 log keeps as zero records. */
  | {kind: 'zero'; ldev: number; offset: number; length: number; fua?: boolean}
  | {kind: 'read'; ldev: number; offset: number; length: number}
  /** Every write answered before it is on stable storage: the M-VOL, the R-VOLs it reached, the log. */
  | {kind: 'flush'; ldev: number};

/**
 * A request in the pipeline; settled once, when its last piece is done or its first
 * fails, and answered (deliver) once its whole batch is done: the batch awaits the
 * remote, and no answer may leave while it holds the lock.
 */
export class Admitted {
  /** Writes of it not yet done (a long zero request is several). */
  pieces = 0;
  settled = false;
  private answer: (() => void) | undefined;

  constructor(readonly request: HostRequest, private readonly settle: {resolve(data?: Buffer): void; reject(error: unknown): void}) {}

  resolve(data?: Buffer): void {
    if (this.settled) return;
    this.settled = true;
    this.answer = () => this.settle.resolve(data);
  }

  /** One of its writes is done: the request is, once all of them are. */
  pieceDone(): void {
    if (--this.pieces === 0) this.resolve();
  }

  reject(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.answer = () => this.settle.reject(error);
  }

  deliver(): void {
    this.answer?.();
    this.answer = undefined;
  }
}

const ZEROS = Buffer.alloc(1024 * 1024);

/** A request as the writes it makes: a zero request in pieces of at most 1 MiB of zeros. */
export function piecesOf(request: Extract<HostRequest, {kind: 'write' | 'zero'}>): VolumeWrite[] {
  if (request.kind === 'write') return [{offset: request.offset, data: request.data}];
  const pieces: VolumeWrite[] = [];
  for (let done = 0; done < request.length; done += ZEROS.length) {
    pieces.push({offset: request.offset + done, data: ZEROS.subarray(0, Math.min(ZEROS.length, request.length - done))});
  }
  return pieces;
}
