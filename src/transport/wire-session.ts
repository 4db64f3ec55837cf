// The client's side of one wire session (docs/WIRE.md §2, §5) on one connection to
// an agent: HELLO, then requests sent as they are asked for, without waiting for the
// answers before them, each settled by the RESPONSE or ERROR carrying its id. When
// the connection is lost, or an answer is late past the link's timeout, every
// request without an answer fails as REMOTE_UNREACHABLE naming its method and id:
// the client cannot vouch for them, and the caller (the write path) tracks their
// ranges for resync. The session is then over; the link opens a new one.
import crypto from 'node:crypto';
import type {Readable, Writable} from 'node:stream';
import {MarklogError, RemoteUnreachableError, WireProtocolError} from '../errors.js';
import {encodeFramePieces, type WireFrame} from '../format/wire-frame.js';
import {WireDecoder} from '../format/wire-decoder.js';
import {NEW_SESSION, type Welcome} from '../format/wire-bodies.js';
import {rebuildError} from '../format/wire-errors.js';
import {WireMethod, type WireMethodName} from '../format/wire-methods.js';
import {writeInTurn} from '../util/turn-writes.js';

/** The protocol versions this client speaks (WIRE.md §6). */
export const CLIENT_PROTOCOL = {min: 1, max: 1} as const;

/** A connection to an agent as a session sees it: bytes both ways, something to say when it failed, a way to end it. */
export interface WireConnection {
  input: Readable;
  output: Writable;
  /** Words about why the connection failed that the stream does not carry (ssh's standard error). */
  why(): string;
  /** Ends the connection at once. */
  destroy(): void;
  /** Lets the process exit while the connection is idle (ref: while requests wait for answers). */
  ref(on: boolean): void;
}

export interface SessionOptions {
  /** Where the agent is, in words, for messages. */
  address: string;
  /** The site this client acts for, and the one it means to reach ('' on first contact). */
  client: string;
  site: string;
  /** An answer later than this ends the session (the link is taken as lost). */
  timeoutMs: number;
}

export interface Reply {
  json: unknown;
  data: Buffer;
}

interface Pending {
  method: WireMethodName;
  sent: number;
  resolve(reply: Reply): void;
  reject(error: unknown): void;
}

const EMPTY = Buffer.alloc(0);

export class WireSession {
  private readonly decoder = new WireDecoder({from: 'agent'});
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private welcomed: {resolve(welcome: Welcome): void; reject(error: unknown): void} | undefined;
  private failure: MarklogError | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private ended = false;
  private helloSent = 0;

  private constructor(private readonly connection: WireConnection, private readonly options: SessionOptions) {
    connection.input.on('data', (chunk: Buffer) => this.take(chunk));
    connection.input.on('end', () => this.lost('the agent ended the connection'));
    connection.input.on('error', error => this.lost(error.message));
    connection.input.on('close', () => this.lost('the connection closed'));
    connection.output.on('error', error => this.lost(error.message));
  }

  /** Says HELLO on `connection` and waits for the WELCOME: the agent's site and the session it opened. */
  static async open(connection: WireConnection, options: SessionOptions): Promise<{session: WireSession; welcome: Welcome}> {
    const session = new WireSession(connection, options);
    connection.ref(true);
    try {
      const welcome = await new Promise<Welcome>((resolve, reject) => {
        session.welcomed = {resolve, reject};
        session.helloSent = Date.now();
        session.watch();
        session.send({type: 'hello', ack: 0, hello: {protocol: CLIENT_PROTOCOL, session: NEW_SESSION, client: options.client, site: options.site}});
      });
      return {session, welcome};
    } catch (error) {
      session.end();
      throw error;
    } finally {
      session.idle();
    }
  }

  /** The reason the session is over, once it is. */
  get broken(): MarklogError | undefined {
    return this.failure;
  }

  /** Sends one request now and resolves with its answer; an ERROR is thrown as its own typed error. */
  call(method: WireMethodName, json: unknown, binary: readonly Uint8Array[] = []): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      if (this.pending.size === 0) this.connection.ref(true);
      this.pending.set(id, {method, sent: Date.now(), resolve, reject});
      this.watch();
      const data = binary.length === 0 ? undefined : binary.length === 1 ? binary[0] : Buffer.concat(binary);
      try {
        this.send({type: 'request', id, ack: 0, method: WireMethod[method], json, binary: data});
      } catch (error) {
        // Too large for a frame: this request's own error; the session goes on.
        this.pending.delete(id);
        this.idle();
        reject(error);
      }
    });
  }

  /** Ends the session politely: BYE, then the end of the stream; the agent finishes what it has and exits. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.failure) {
      try {
        this.send({type: 'bye', ack: 0});
      } catch {
        // Nothing more can be said: the close below is the end all the same.
      }
    }
    this.failure ??= new RemoteUnreachableError(`the link to ${this.options.address} was closed`);
    this.connection.output.end();
    this.stopWatch();
    this.connection.ref(false);
    this.rejectAll(this.failure);
  }

  private send(frame: WireFrame): void {
    writeInTurn(this.connection.output, encodeFramePieces(frame));
  }

  private take(chunk: Buffer): void {
    try {
      this.decoder.push(chunk, frame => this.onFrame(frame));
    } catch (error) {
      this.fail(error instanceof MarklogError ? error : new WireProtocolError((error as Error).message));
    }
  }

  private onFrame(frame: WireFrame): void {
    switch (frame.type) {
      case 'welcome': {
        if (!this.welcomed) throw new WireProtocolError('a second WELCOME from the agent');
        const welcomed = this.welcomed;
        this.welcomed = undefined;
        welcomed.resolve(frame.welcome);
        return;
      }
      case 'response':
      case 'error': {
        if (frame.id === 0 && frame.type === 'error') {
          // About the whole connection: the agent closes it; the requests in hand have no answer.
          this.fail(rebuildError(frame.error));
          return;
        }
        const pending = this.pending.get(frame.id);
        if (!pending) throw new WireProtocolError(`an answer to request ${frame.id}, which is not waiting for one`);
        this.pending.delete(frame.id);
        if (frame.type === 'error') pending.reject(rebuildError(frame.error));
        else pending.resolve({json: frame.json, data: frame.binary ? Buffer.from(frame.binary.buffer, frame.binary.byteOffset, frame.binary.byteLength) : EMPTY});
        this.idle();
        return;
      }
      case 'ping':
        this.send({type: 'pong', id: frame.id, ack: 0});
        return;
      case 'pong':
        return;
      case 'bye':
        this.lost('the agent said BYE');
        return;
      default:
        throw new WireProtocolError(`a ${frame.type.toUpperCase()} frame from the agent`);
    }
  }

  private lost(why: string): void {
    if (this.failure) return;
    const more = this.connection.why();
    this.fail(new RemoteUnreachableError(`the link to ${this.options.address} was lost: ${why}${more ? ` (${more})` : ''}`,
      'check that the remote machine is up and its agent can run; marklog connects again at the next command or write'));
  }

  /** The session is over: every request without an answer fails, naming itself, and the connection is cut. */
  private fail(error: MarklogError): void {
    if (this.failure) return;
    this.failure = error;
    this.welcomed?.reject(error);
    this.welcomed = undefined;
    this.rejectAll(error);
    this.stopWatch();
    this.connection.destroy();
    this.connection.ref(false);
  }

  private rejectAll(cause: MarklogError): void {
    for (const [id, pending] of this.pending) {
      pending.reject(cause instanceof RemoteUnreachableError
        ? new RemoteUnreachableError(`${cause.message}; request ${id} (${pending.method}) has no answer, so whether it took effect is unknown`, cause.hint)
        : cause);
    }
    this.pending.clear();
  }

  /** While anything waits for an answer (the WELCOME included), the oldest is checked against the timeout. */
  private watch(): void {
    if (this.watchdog) return;
    const every = Math.max(10, Math.min(1_000, Math.floor(this.options.timeoutMs / 4)));
    this.watchdog = setInterval(() => {
      let oldest = this.welcomed ? this.helloSent : Infinity;
      for (const pending of this.pending.values()) oldest = Math.min(oldest, pending.sent);
      if (Date.now() - oldest > this.options.timeoutMs) this.lost(`no answer for ${this.options.timeoutMs} ms`);
    }, every);
    this.watchdog.unref();
  }

  private stopWatch(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  /** Nothing waits any more: the timeout stops, and the process may exit. */
  private idle(): void {
    if (this.pending.size > 0 || this.welcomed) return;
    this.stopWatch();
    this.connection.ref(false);
  }
}

/** A new random client id for a site that has none to give (a first contact). */
export function randomClientId(): string {
  return crypto.randomBytes(8).toString('hex');
}
