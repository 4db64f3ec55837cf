// One `marklog agent` session run in this process, for the agent fuzz test: the
// Agent of src/endpoint/agent.ts on a pair of streams (two pipes, as standard input
// and output are, or one connection, as the TLS listener hands it), driven only
// through the bytes it reads, with the frames it answers collected as they come.
import {duplexPair, PassThrough} from 'node:stream';
import {Agent} from '../../src/endpoint/agent.js';
import {WireDecoder} from '../../src/format/wire-decoder.js';
import type {WireFrame} from '../../src/format/wire-frame.js';
import type {Rng} from './fuzz.js';

export type Transport = 'pipes' | 'connection';

export interface Settled {
  /** Undefined when `done` resolved. */
  error?: unknown;
  /** False when `done` had not settled within its time. */
  inTime: boolean;
  ms: number;
}

export class AgentSession {
  readonly frames: WireFrame[] = [];
  /** The agent's frames failed to decode: the agent sent something no reader takes. */
  decodeError: unknown;
  /** What the agent wrote for people (standard error in a real agent): stacks of untyped failures. */
  readonly logs: string[] = [];
  private readonly agent: Agent;
  private readonly input: NodeJS.WritableStream & {destroyed: boolean; writableEnded: boolean; destroy(): void};
  private readonly done: Promise<{error?: unknown}>;
  private settledAfter: number | undefined;
  private readonly started = performance.now();
  private waiters: (() => void)[] = [];

  constructor(site: string, readonly transport: Transport) {
    const decoder = new WireDecoder({from: 'agent'});
    const take = (chunk: Buffer) => {
      try {
        decoder.push(chunk, frame => this.frames.push(frame));
      } catch (error) {
        this.decodeError ??= error;
      }
      this.wake();
    };
    const log = (line: string) => this.logs.push(line);
    if (transport === 'pipes') {
      const input = new PassThrough();
      const output = new PassThrough();
      output.on('data', take);
      this.input = input;
      this.agent = new Agent({site, input, output, log});
    } else {
      const [near, far] = duplexPair();
      near.on('data', take);
      // A client ends its side once the agent has ended its own, so the connection closes.
      near.on('end', () => {
        if (!near.writableEnded) near.end();
      });
      this.input = near;
      this.agent = new Agent({site, connection: far, log});
    }
    this.done = this.agent.done.then(() => ({}), (error: unknown) => ({error})).finally(() => {
      this.settledAfter = performance.now() - this.started;
      this.wake();
    });
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const wake of waiting) wake();
  }

  get settled(): boolean {
    return this.settledAfter !== undefined;
  }

  /** Sends bytes as the stream delivers them: whole, or cut at random places. */
  send(bytes: Buffer, rng?: Rng): void {
    if (this.input.destroyed || this.input.writableEnded) return;
    if (!rng || rng.chance(0.6)) {
      this.input.write(bytes);
      return;
    }
    for (let at = 0; at < bytes.length;) {
      const n = rng.range(1, rng.chance(0.3) ? 16 : Math.max(1, bytes.length));
      this.input.write(bytes.subarray(at, at + n));
      at += n;
    }
  }

  endInput(): void {
    if (!this.input.destroyed && !this.input.writableEnded) this.input.end();
  }

  /** Waits until `ready()` holds, the agent settles, or `ms` pass; says whether `ready()` holds. */
  async until(ready: () => boolean, ms: number): Promise<boolean> {
    const deadline = performance.now() + ms;
    while (!ready()) {
      const left = deadline - performance.now();
      if (this.settled || left <= 0) return ready();
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  /** How the agent's `done` settled, given at most `ms`; the frames it wrote last are read first. */
  async settle(ms: number): Promise<Settled> {
    await this.until(() => false, ms);
    const {error} = this.settled ? await this.done : {error: undefined};
    // The last frames are on their way through the stream when `done` settles.
    for (let i = 0; i < 3; i++) await new Promise(resolve => setImmediate(resolve));
    return {error, inTime: this.settled, ms: this.settledAfter ?? ms};
  }

  /** After the checks: nothing of this session is left running. */
  destroy(): void {
    this.input.destroy();
  }
}
