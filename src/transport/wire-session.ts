// The client's side of one wire session (docs/WIRE.md §2, §5) with an agent: HELLO,
// then requests sent as they are asked for, without waiting for the answers before
// them, each settled by the RESPONSE or ERROR carrying its id. When the connection is
// lost and the transport can resume (a TLS listener keeps sessions), the session
// connects again and says HELLO with its id and ack: requests the agent applied are
// answered from what it kept, the rest are sent again with the same ids, in order,
// and requests asked for meanwhile follow them. When it cannot (ssh, an agent that no
// longer holds the session, no connection in time, an answer late past the link's
// timeout, an ERROR about the connection), every request without an answer fails as
// REMOTE_UNREACHABLE naming its method and id: the client cannot vouch for them, and
// the caller (the write path) tracks their ranges for resync.
import crypto from 'node:crypto';
import type {Readable, Writable} from 'node:stream';
import {MarklogError, RemoteUnreachableError, WireProtocolError} from '../errors.js';
import {encodeFramePieces, type WireFrame} from '../format/wire-frame.js';
import {WireDecoder} from '../format/wire-decoder.js';
import {NEW_SESSION, type Welcome} from '../format/wire-bodies.js';
import {withRetries} from './retries.js';
import {rebuildError} from '../format/wire-errors.js';
import {WireMethod, type WireMethodName} from '../format/wire-methods.js';
import {writeInTurn} from '../util/turn-writes.js';
import {WaitingRequests, type Pending, type Reply} from './wire-requests.js';

export type {Reply} from './wire-requests.js';

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
  /** An answer later than this ends the session (the link is taken as lost), reconnecting included. */
  timeoutMs: number;
  /** A new connection to the same agent, when its transport keeps sessions across connections (TLS); absent over ssh. */
  reconnect?: () => Promise<WireConnection>;
  /** Connection attempts after the first when resuming (MARKLOG_LINK_RETRIES, else 3). */
  retries?: number;
}

/** A WELCOME: its body, and the id of the last request the agent applied (its frame's ack). */
interface Welcomed {
  welcome: Welcome;
  ack: number;
}

const EMPTY = Buffer.alloc(0);
/** Answers received between two acks the client sends: past it a PING carries the ack, so the agent lets them go. */
const ACK_EVERY = 256;

export class WireSession {
  private decoder = new WireDecoder({from: 'agent'});
  private connection: WireConnection;
  private readonly pending = new WaitingRequests();
  private sessionId = NEW_SESSION;
  private ackSent = 0;
  private welcomed: {resolve(welcomed: Welcomed): void; reject(error: unknown): void} | undefined;
  /** Between a lost connection and the WELCOME of the next one. */
  private resuming = false;
  /** The connection was lost while nothing was in flight: the next call resumes first. */
  private lostIdle: string | undefined;
  /** The connection that welcomed a resume was lost before the resume took the WELCOME in: it starts again. */
  private lostWhileResuming: string | undefined;
  private failure: MarklogError | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private ended = false;
  private helloSent = 0;

  private constructor(connection: WireConnection, private readonly options: SessionOptions) {
    this.connection = connection;
    this.listen(connection);
  }

  /** Says HELLO on `connection` and waits for the WELCOME: the agent's site and the session it opened. */
  static async open(connection: WireConnection, options: SessionOptions): Promise<{session: WireSession; welcome: Welcome}> {
    const session = new WireSession(connection, options);
    connection.ref(true);
    try {
      const {welcome} = await session.hello(connection);
      session.sessionId = welcome.session;
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

  /** The highest id up to which every answer has arrived. */
  private get ack(): number {
    return this.pending.ack;
  }

  /** Sends one request now (or once the session is resumed) and resolves with its answer; an ERROR is thrown as its own typed error. */
  call(method: WireMethodName, json: unknown, binary: readonly Uint8Array[] = []): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    const data = binary.length === 0 ? undefined : binary.length === 1 ? binary[0] : Buffer.concat(binary);
    const id = this.pending.nextId;
    let pieces: Buffer[] | undefined;
    if (!this.resuming && this.lostIdle === undefined) {
      try {
        pieces = encodeFramePieces({type: 'request', id, ack: this.ack, method: WireMethod[method], json, binary: data});
      } catch (error) {
        // Too large for a frame: this request's own error, and its id stays free; the session goes on.
        return Promise.reject(error);
      }
    }
    return new Promise<Reply>((resolve, reject) => {
      if (this.pending.size === 0) this.connection.ref(true);
      this.pending.add({method, json, binary: data, asked: Date.now(), sent: pieces !== undefined, resolve, reject});
      this.watch();
      if (pieces) this.write(pieces);
      else if (this.lostIdle !== undefined) this.resume(this.lostIdle);
    });
  }

  /** Ends the session politely: `close` where the agent keeps sessions, BYE, then the end of the stream. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.failure && !this.resuming && this.lostIdle === undefined) {
      try {
        if (this.options.reconnect && this.sessionId !== NEW_SESSION) {
          // Not waited for: the agent forgets the session once it has answered it.
          this.send({type: 'request', id: this.pending.takeId(), ack: this.ack, method: WireMethod.close, json: {}});
        }
        this.send({type: 'bye', ack: this.ack});
      } catch {
        // Nothing more can be said: the close below is the end all the same.
      }
    }
    this.failure ??= new RemoteUnreachableError(`the link to ${this.options.address} was closed`);
    this.welcomed?.reject(this.failure);
    this.welcomed = undefined;
    // A connection made to resume has said nothing the agent must hear to the end: it is cut.
    if (this.resuming) this.connection.destroy();
    else this.connection.output.end();
    this.stopWatch();
    this.connection.ref(false);
    this.pending.rejectAll(this.failure);
  }

  private listen(connection: WireConnection): void {
    const current = () => this.connection === connection && !this.ended;
    connection.input.on('data', (chunk: Buffer) => current() && this.take(chunk));
    connection.input.on('end', () => current() && this.lost('the agent ended the connection'));
    connection.input.on('error', error => current() && this.lost(error.message));
    connection.input.on('close', () => current() && this.lost('the connection closed'));
    connection.output.on('error', error => current() && this.lost(error.message));
  }

  private hello(connection: WireConnection): Promise<Welcomed> {
    return new Promise<Welcomed>((resolve, reject) => {
      this.welcomed = {resolve, reject};
      this.helloSent = Date.now();
      this.watch();
      const ack = this.sessionId === NEW_SESSION ? 0 : this.ack;
      writeInTurn(connection.output, encodeFramePieces({type: 'hello', ack, hello: {protocol: CLIENT_PROTOCOL, session: this.sessionId, client: this.options.client, site: this.options.site}}));
    });
  }

  private send(frame: WireFrame): void {
    this.write(encodeFramePieces(frame));
  }

  private write(pieces: readonly Uint8Array[]): void {
    this.ackSent = this.ack;
    writeInTurn(this.connection.output, pieces);
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
        welcomed.resolve({welcome: frame.welcome, ack: frame.ack});
        return;
      }
      case 'response':
      case 'error': {
        if (frame.id === 0 && frame.type === 'error') {
          // About the whole connection: the agent closes it and ends the session; the requests in hand have no answer.
          this.fail(rebuildError(frame.error));
          return;
        }
        const pending = this.pending.answered(frame.id);
        if (!pending) throw new WireProtocolError(`an answer to request ${frame.id}, which is not waiting for one`);
        if (frame.type === 'error') pending.reject(rebuildError(frame.error));
        else pending.resolve({json: frame.json, data: frame.binary ? Buffer.from(frame.binary.buffer, frame.binary.byteOffset, frame.binary.byteLength) : EMPTY});
        if (this.ack - this.ackSent >= ACK_EVERY) this.send({type: 'ping', id: 0, ack: this.ack});
        this.idle();
        return;
      }
      case 'ping':
        this.send({type: 'pong', id: frame.id, ack: this.ack});
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

  private lostError(why: string): RemoteUnreachableError {
    const more = this.connection.why();
    return new RemoteUnreachableError(`the link to ${this.options.address} was lost: ${why}${more ? ` (${more})` : ''}`,
      'check that the remote machine is up and its agent can run; marklog connects again at the next command or write');
  }

  /** The connection is gone: the session resumes on a new one where the transport allows, else it is over. */
  private lost(why: string): void {
    if (this.failure) return;
    if (this.resuming) {
      // Before its WELCOME, the attempt sees the loss itself and another is made.
      if (!this.welcomed) this.lostWhileResuming = why;
      return;
    }
    if (!this.options.reconnect || this.sessionId === NEW_SESSION) {
      this.fail(this.lostError(why));
      return;
    }
    this.connection.destroy();
    this.connection.ref(false);
    if (this.pending.size === 0) {
      // Nothing waits: the next call resumes, so an idle link does not reconnect on its own.
      this.lostIdle = why;
      return;
    }
    this.resume(why);
  }

  private resume(why: string): void {
    this.lostIdle = undefined;
    this.resuming = true;
    const reconnect = this.options.reconnect!;
    const attempt = async () => {
      if (this.failure) throw this.failure;
      const connection = await reconnect();
      if (this.failure) {
        // Ended (or failed) while connecting: this connection is no part of the session.
        connection.destroy();
        throw this.failure;
      }
      this.connection = connection;
      this.lostWhileResuming = undefined;
      this.decoder = new WireDecoder({from: 'agent'});
      this.listen(connection);
      connection.ref(true);
      // Lost during its own HELLO: that attempt failed, and the next one is tried.
      const failed = new Promise<never>((_, reject) => {
        const gone = () => reject(this.lostError('the connection closed while resuming'));
        connection.input.once('close', gone);
        connection.input.once('end', gone);
      });
      return Promise.race([this.hello(connection), failed]);
    };
    withRetries(attempt, {
      address: this.options.address,
      retries: this.options.retries,
      retryable: error => error instanceof RemoteUnreachableError && !this.failure,
      hint: () => 'check that the remote machine is up and its agent listens; marklog connects again at the next command or write',
    }).then(welcomed => this.resumed(welcomed), (error: unknown) => {
      this.resuming = false;
      this.fail(this.failure ?? (error instanceof MarklogError ? error : this.lostError(why)));
    });
  }

  /** The WELCOME on the new connection: the same session (carry on above its ack) or a new one (the old one's requests in flight cannot be vouched for). */
  private resumed({welcome, ack: applied}: Welcomed): void {
    this.resuming = false;
    if (this.failure) return;
    if (welcome.session === this.sessionId) {
      if (applied < this.ack || applied >= this.pending.nextId) {
        this.fail(new WireProtocolError(`the agent resumed session ${this.sessionId} at request ${applied}, but this client has answers up to ${this.ack} and sent up to ${this.pending.nextId - 1}`));
        return;
      }
      // Requests up to `applied` took effect: their answers come again. The rest go again, in order, with their ids.
      for (const [id, pending] of this.pending.above(applied)) this.resend(id, pending);
    } else {
      const unsent = this.pending.renumberForNewSession(this.lostError('the agent no longer holds the session'));
      this.sessionId = welcome.session;
      this.ackSent = 0;
      for (const [id, pending] of unsent) this.resend(id, pending);
    }
    const gone = this.lostWhileResuming;
    this.lostWhileResuming = undefined;
    if (gone !== undefined) this.lost(gone);
    else this.idle();
  }

  private resend(id: number, pending: Pending): void {
    pending.sent = true;
    this.write(encodeFramePieces({type: 'request', id, ack: this.ack, method: WireMethod[pending.method], json: pending.json, binary: pending.binary}));
  }

  /** The session is over: every request without an answer fails, naming itself, and the connection is cut. */
  private fail(error: MarklogError): void {
    if (this.failure) return;
    this.failure = error;
    this.welcomed?.reject(error);
    this.welcomed = undefined;
    this.pending.rejectAll(error);
    this.stopWatch();
    this.connection.destroy();
    this.connection.ref(false);
  }

  /** While anything waits for an answer (the WELCOME included), the oldest is checked against the timeout; reconnecting does not stop it. */
  private watch(): void {
    if (this.watchdog) return;
    const every = Math.max(10, Math.min(1_000, Math.floor(this.options.timeoutMs / 4)));
    this.watchdog = setInterval(() => {
      const oldest = Math.min(this.welcomed ? this.helloSent : Infinity, this.pending.oldestAsked());
      // Given up on: not resumed, since the caller is told now and tracks what it asked for.
      if (Date.now() - oldest > this.options.timeoutMs) this.fail(this.lostError(`no answer for ${this.options.timeoutMs} ms`));
    }, every);
    this.watchdog.unref();
  }

  private stopWatch(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  /** Nothing waits any more: the timeout stops, and the process may exit. */
  private idle(): void {
    if (this.pending.size > 0 || this.welcomed || this.resuming) return;
    this.stopWatch();
    this.connection.ref(false);
  }
}

/** A new random client id for a site that has none to give (a first contact). */
export function randomClientId(): string {
  return crypto.randomBytes(8).toString('hex');
}
