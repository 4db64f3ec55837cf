// A small client of `marklog agent` for tests, built on the codec: over the pipes of
// an agent it starts as a child process, of any command that carries the bytes (a
// relay in another network namespace), or over any Duplex (a TLS socket), it says
// HELLO, sends requests (one at a time or many before reading any answer) and
// collects the frames the agent answers with.
import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process';
import type {Duplex, Writable} from 'node:stream';
import {encodeFrame, type WireFrame} from '../../src/format/wire-frame.js';
import {WireDecoder} from '../../src/format/wire-decoder.js';
import {WireMethod, type WireMethodName} from '../../src/format/wire-methods.js';
import {NEW_SESSION, type Welcome} from '../../src/format/wire-bodies.js';
import {rebuildError} from '../../src/format/wire-errors.js';
import {BIN} from './cli.js';

export type Answer = Extract<WireFrame, {type: 'request' | 'response'}> | Extract<WireFrame, {type: 'error'}>;

export interface Exit {
  code: number | null;
  stderr: string;
  /** Every byte the agent wrote to standard output. */
  stdout: Buffer;
}

/** The agent's command line on a site, or a command whose standard input and output are the link, or a stream that is. */
export type WireTarget = string | {command: string[]} | Duplex;

export class WireClient {
  /** The child process, when this client started one (a site directory or a command); for a stream, unset. */
  readonly child!: ChildProcessWithoutNullStreams;
  readonly frames: WireFrame[] = [];
  private readonly decoder = new WireDecoder({from: 'agent'});
  private waiters: (() => void)[] = [];
  private nextId = 1;
  private stdout: Buffer[] = [];
  private stderr = '';
  private readonly output: Writable;
  /** The stream, or the child's standard output, has closed. */
  private closed = false;
  decodeError: unknown;
  readonly exited: Promise<Exit>;

  /** `via`: a command that runs the agent's command line somewhere else (`ssh … host`), as an administrator's link would. */
  constructor(target: WireTarget, env: NodeJS.ProcessEnv = {}, via: string[] = []) {
    const take = (chunk: Buffer) => {
      this.stdout.push(chunk);
      try {
        this.decoder.push(chunk, frame => this.frames.push(frame));
      } catch (error) {
        this.decodeError = error;
      }
      this.wake();
    };
    if (typeof target === 'string' || 'command' in target) {
      const command = typeof target === 'string' ? [...via, process.execPath, BIN, 'agent', '--site', target] : target.command;
      const child = spawn(command[0], command.slice(1), {env: {...process.env, ...env}});
      this.child = child;
      this.output = child.stdin;
      child.stdout.on('data', take);
      child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
      this.exited = new Promise(resolve => child.on('close', code => {
        this.closed = true;
        this.wake();
        resolve({code, stderr: this.stderr, stdout: Buffer.concat(this.stdout)});
      }));
    } else {
      this.output = target;
      target.on('data', take);
      // A reset is the test's to see as the stream's end, not an unhandled error.
      target.on('error', error => (this.stderr += `${(error as Error).message}\n`));
      this.exited = new Promise(resolve => target.on('close', () => {
        this.closed = true;
        this.wake();
        resolve({code: null, stderr: this.stderr, stdout: Buffer.concat(this.stdout)});
      }));
    }
    // A write after the agent went away is the test's to see in the exit, not an unhandled error.
    this.output.on('error', () => {});
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const wake of waiting) wake();
  }

  /** Waits until `count` frames have arrived (or the agent ended). */
  async frameCount(count: number, timeoutMs = 20_000): Promise<WireFrame[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < count) {
      if (this.closed || Date.now() > deadline) throw new Error(`expected ${count} frames, have ${this.frames.length}; stderr: ${this.stderr}`);
      await new Promise<void>(resolve => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.frames.slice(0, count);
  }

  raw(bytes: Uint8Array): void {
    this.output.write(bytes);
  }

  send(frame: WireFrame): void {
    this.raw(encodeFrame(frame));
  }

  async hello(client = 'e6c8da65d963855a', site = ''): Promise<Welcome> {
    this.send({type: 'hello', ack: 0, hello: {protocol: {min: 1, max: 1}, session: NEW_SESSION, client, site}});
    const [frame] = await this.frameCount(1);
    if (frame.type !== 'welcome') throw new Error(`expected WELCOME, got ${JSON.stringify(frame)}`);
    return frame.welcome;
  }

  /** Sends a request without waiting; returns its id. */
  request(method: WireMethodName, args?: unknown, binary?: Uint8Array): number {
    const id = this.nextId++;
    this.send({type: 'request', id, ack: 0, method: WireMethod[method], json: args, binary});
    return id;
  }

  /** The answer to request `id`, waiting for it. */
  async answer(id: number): Promise<Answer> {
    for (;;) {
      const found = this.frames.find(f => (f.type === 'response' || f.type === 'error') && f.id === id) as Answer | undefined;
      if (found) return found;
      await this.frameCount(this.frames.length + 1);
    }
  }

  /** One request and its result (or its error, rebuilt as the typed error and thrown). */
  async call<T = unknown>(method: WireMethodName, args?: unknown, binary?: Uint8Array): Promise<{result: T; data: Buffer}> {
    const answer = await this.answer(this.request(method, args, binary));
    if (answer.type === 'error') throw rebuildError(answer.error);
    return {result: answer.json as T, data: Buffer.from(answer.binary ?? [])};
  }

  bye(): void {
    this.send({type: 'bye', ack: 0});
  }

  endInput(): void {
    this.output.end();
  }
}
