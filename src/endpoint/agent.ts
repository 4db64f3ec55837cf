// `marklog agent`: the remote's end of the link, one wire session (docs/WIRE.md) on
// any byte stream: SSH's standard input and output, or one TLS connection of the
// listener (agent-listener.ts). It reads the HELLO, answers
// WELCOME, then serves REQUESTs through the method table (methods.ts) in id order,
// each answered by a RESPONSE or an ERROR carrying its id. Requests are read as they
// come, without waiting for the answers before them, and done one at a time: a
// method that answers with a promise (a write cascading to this site's own pairs
// through its link) is awaited before the next request starts, so answers leave in
// id order. The site lock is taken without stopping the event loop
// (FileLock.acquireWithoutBlocking), held across those awaits, and let go between
// batches, and when another process waits for it. Only frames go to `output`.
import type {Duplex, Readable, Writable} from 'node:stream';
import {MarklogError, WireProtocolError, WireVersionError, WrongRoleError} from '../errors.js';
import {NEW_SESSION} from '../format/wire-bodies.js';
import {encodeFramePieces, type WireFrame} from '../format/wire-frame.js';
import {WireDecoder} from '../format/wire-decoder.js';
import {errorBodyOf} from '../format/wire-errors.js';
import {methodOfRequest, WireMethod} from '../format/wire-methods.js';
import {closeLink} from '../site/link-opener.js';
import {Site} from '../site/site.js';
import {argsOf} from './args.js';
import {methods} from './methods.js';
import {hello as identity} from './volumes.js';
import {abortOpenTransfers} from './receive-image.js';
import {drainedOrGone} from '../util/drain.js';
import {writeInTurn} from '../util/turn-writes.js';
import {SessionTable, type AgentSession, type SessionOwner} from './session-table.js';

/** The protocol versions this agent speaks (WIRE.md §6). */
export const AGENT_PROTOCOL = {min: 1, max: 1} as const;
/** Requests done in one hold of the site lock before it is offered to waiting processes. */
const BATCH = 64;
/** Requests between two looks for a waiting process: each look is two flock(2) calls, against a request's one write. */
const WAITERS_EVERY = 8;

/** A session's byte streams: the process's own (standard input and output), or one connection it may end. */
export type AgentStreams = {input: Readable; output: Writable} | {connection: Duplex};

export type AgentOptions = AgentStreams & {
  site: string;
  /** One line for people (standard error). */
  log?: (line: string) => void;
  /** The listener's sessions, which outlive connections; without it (stdio) each session ends with its connection. */
  sessions?: SessionTable;
};

/** How long a connection that was ended waits for its client to end too, before it is destroyed. */
const LINGER_MS = 5_000;

type Request = Extract<WireFrame, {type: 'request' | 'response'}>;

export class Agent implements SessionOwner {
  private site: Site | undefined;
  private state: 'hello' | 'welcoming' | 'serving' | 'ending' = 'hello';
  private readonly queue: Request[] = [];
  private lastId = 0;
  private session: AgentSession | undefined;
  /** Another connection resumed the session: nothing more is applied or written here. */
  private released = false;
  private idleWaiters: (() => void)[] = [];
  private working = false;
  private fatal: unknown;
  private settle!: {resolve: () => void; reject: (error: unknown) => void};
  readonly done: Promise<void>;
  private readonly decoder = new WireDecoder({from: 'client'});
  private readonly input: Readable;
  private readonly output: Writable;
  /** The connection, when the session owns one: it is ended with the session. Standard output is the process's. */
  private readonly connection: Duplex | undefined;

  constructor(private readonly options: AgentOptions) {
    this.done = new Promise((resolve, reject) => (this.settle = {resolve, reject}));
    this.connection = 'connection' in options ? options.connection : undefined;
    this.input = 'connection' in options ? options.connection : options.input;
    this.output = 'connection' in options ? options.connection : options.output;
    // Opened at once, so a wrong directory is one line on stderr before any frame.
    this.site = Site.open(options.site);
    this.input.on('data', (chunk: Buffer) => this.take(chunk));
    this.input.on('end', () => this.inputEnded());
    if (this.connection && options.sessions) {
      // A connection lost is not the session's end: it waits to be resumed, so no ERROR is owed.
      this.input.on('error', () => this.lost());
      this.input.on('close', () => this.lost());
    } else {
      this.input.on('error', error => this.fail(error));
    }
  }

  private get applied(): number {
    return this.session?.applied ?? 0;
  }

  /**
   * Another connection resumes this session: no more frames are read here, the
   * requests not begun are dropped (the client sends them again above the WELCOME's
   * ack), and the request in progress finishes before the promise resolves.
   */
  release(): Promise<void> {
    this.released = true;
    this.queue.length = 0;
    this.finish();
    this.connection?.destroy();
    if (!this.working) return Promise.resolve();
    return new Promise(resolve => this.idleWaiters.push(resolve));
  }

  /** The connection failed or closed without an orderly end: requests not begun are dropped, as a resume would send them again. */
  private lost(): void {
    if (this.state === 'ending') return;
    this.queue.length = 0;
    this.finish();
  }

  /** Reads no more requests; the ones in hand are answered, then the session ends (a listener that stops). */
  stop(): void {
    this.finish();
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  private send(frame: WireFrame): boolean {
    return this.write(encodeFramePieces(frame));
  }

  private write(pieces: readonly Uint8Array[]): boolean {
    return this.released ? true : writeInTurn(this.output, pieces);
  }

  private take(chunk: Buffer): void {
    if (this.state === 'ending') return;
    try {
      this.decoder.push(chunk, frame => this.onFrame(frame));
    } catch (error) {
      this.fail(error);
    }
  }

  private inputEnded(): void {
    if (this.state === 'ending') return;
    try {
      this.decoder.end();
    } catch (error) {
      // A kept session's connection ending inside a frame was cut (a path that dropped it
      // sends FIN as often as a reset): the frame never arrived whole, so nothing of it was
      // applied, and the client sends it again when it resumes.
      if (this.connection && this.options.sessions) this.lost();
      else this.fail(error);
      return;
    }
    this.finish();
  }

  private onFrame(frame: WireFrame): void {
    if (this.state === 'ending') return;
    if (this.state === 'hello') {
      if (frame.type !== 'hello') throw new WireProtocolError(`the agent's first frame must be a HELLO, not a ${frame.type.toUpperCase()}`);
      this.state = 'welcoming';
      this.welcome(frame.hello, frame.ack).catch(error => this.fail(error));
      return;
    }
    if (this.state === 'welcoming') throw new WireProtocolError(`a ${frame.type.toUpperCase()} frame before the WELCOME: the client waits for it (WIRE.md §2)`);
    this.session!.acknowledge(frame.ack);
    switch (frame.type) {
      case 'request':
        if (frame.id !== this.lastId + 1) throw new WireProtocolError(`request ${frame.id} came after request ${this.lastId}: ids go up by one (WIRE.md §5)`);
        this.lastId = frame.id;
        this.queue.push(frame);
        void this.work();
        return;
      case 'ping':
        this.send({type: 'pong', id: frame.id, ack: this.applied});
        return;
      case 'pong':
        return;
      case 'bye':
        this.finish();
        return;
      default:
        throw new WireProtocolError(`a ${frame.type.toUpperCase()} frame after the WELCOME`);
    }
  }

  private async welcome(hello: Extract<WireFrame, {type: 'hello'}>['hello'], ack: number): Promise<void> {
    const site = identity(this.site!);
    if (hello.protocol.min > AGENT_PROTOCOL.max || hello.protocol.max < AGENT_PROTOCOL.min) {
      throw new WireVersionError(`the client speaks protocol ${hello.protocol.min}-${hello.protocol.max}; this agent speaks ${AGENT_PROTOCOL.min}-${AGENT_PROTOCOL.max}`,
        'run the same marklog version at both sites');
    }
    if (hello.site !== '' && hello.site !== site.id) {
      throw new WrongRoleError(`this agent serves site ${site.name} (${site.id}), not site ${hello.site}`, 'check the directory the agent is started with');
    }
    const table = this.options.sessions;
    const held = table && hello.session !== NEW_SESSION ? table.find(hello.session, hello.client) : undefined;
    let resent: (readonly Uint8Array[])[] = [];
    if (held) {
      // The connection that had it lets it go once its request in progress is done: nothing of it is applied after this WELCOME's ack.
      await held.owner?.release();
      if (this.state !== 'welcoming') return;
      const answers = held.answersAfter(ack);
      if (!answers) {
        table!.forget(held);
        throw new WireProtocolError(`the client resumes session ${held.id} acknowledging request ${ack}, but the session applied up to ${held.applied} and was acknowledged further before`);
      }
      resent = answers;
      this.session = held;
    } else {
      // Unknown, let go, another client's, or no table at all (a stdio agent): a new session, ack 0 (WIRE.md §5).
      this.session = table ? table.open(hello.client) : SessionTable.unheld(hello.client);
    }
    this.session.attach(this);
    this.lastId = this.session.applied;
    this.state = 'serving';
    this.send({type: 'welcome', ack: this.session.applied, welcome: {protocol: Math.min(hello.protocol.max, AGENT_PROTOCOL.max), session: this.session.id, site}});
    for (const pieces of resent) this.write(pieces);
  }

  /** Serves queued requests in id order, in batches under the site lock, yielding the event loop between them. */
  private async work(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      while (this.queue.length > 0) {
        const site = this.site!;
        await site.lock.acquireWithoutBlocking();
        let drained = true;
        try {
          for (let n = 0; n < BATCH && this.queue.length > 0; n++) {
            drained = (await this.answer(site, this.queue.shift()!)) && drained;
            if (n % WAITERS_EVERY === WAITERS_EVERY - 1 && site.lock.othersWaiting()) break;
          }
        } finally {
          site.lock.release();
        }
        if (!drained) await drainedOrGone(this.output);
        await new Promise(resolve => setImmediate(resolve));
      }
    } catch (error) {
      // The lock not had in time, or the output gone: nothing more can be served.
      this.fatal ??= error;
      this.queue.length = 0;
      this.state = 'ending';
      this.input.pause();
    } finally {
      this.working = false;
      const waiting = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiting) wake();
    }
    if (this.state === 'ending') this.close();
  }

  /** One request: its RESPONSE, or an ERROR with its id; false when the output wants a pause. */
  private async answer(site: Site, request: Request): Promise<boolean> {
    const {id, method} = request;
    let pieces: Buffer[];
    try {
      const name = methodOfRequest(method);
      const data = request.binary && request.binary.length > 0 ? [request.binary] : [];
      const {result, data: bytes} = await methods[name](site, argsOf(request.json), data);
      // Encoded here so that a result too large for a frame is this request's ERROR.
      pieces = encodeFramePieces({type: 'response', id, method, ack: id, json: result, binary: bytes});
    } catch (error) {
      if (!(error instanceof MarklogError)) this.log(`marklog agent: request ${id} (method ${method}): ${(error as Error)?.stack ?? String(error)}`);
      pieces = encodeFramePieces({type: 'error', id, method, ack: id, error: errorBodyOf(error)});
    }
    const session = this.session!;
    session.applyAnswered(id, pieces);
    // `close` ends the session: once answered, nothing of it is kept (WIRE.md §5).
    if (method === WireMethod.close) this.options.sessions?.forget(session);
    return this.write(pieces);
  }

  /** A frame that cannot be read or is not allowed: the requests before it are finished, then ERROR id 0, then the end. */
  private fail(error: unknown): void {
    if (this.state === 'ending') return;
    this.fatal = error;
    this.finish();
  }

  /** No more frames are read; the requests in hand are finished first. */
  private finish(): void {
    if (this.state === 'ending') return;
    this.state = 'ending';
    this.input.pause();
    if (!this.working) this.close();
  }

  private close(): void {
    const session = this.session;
    if (session) {
      // A session ended by an ERROR with id 0 cannot go on; any other waits for its client to resume it.
      if (this.fatal !== undefined) this.options.sessions?.forget(session);
      else session.detach(this);
    }
    if (this.fatal !== undefined && !this.released) {
      try {
        this.send({type: 'error', id: 0, method: 0, ack: this.applied, error: errorBodyOf(this.fatal)});
      } catch {
        // The output is gone too; the reason still reaches stderr.
      }
    }
    const site = this.site;
    this.site = undefined;
    if (site) {
      try {
        abortOpenTransfers(site);
      } finally {
        closeLink(site);
        site.close();
      }
    }
    const settle = () => (this.fatal === undefined ? this.settle.resolve() : this.settle.reject(this.fatal));
    const connection = this.connection;
    if (this.released) {
      // Taken over by another connection: this one was cut already.
      settle();
      return;
    }
    if (!connection) {
      this.input.destroy();
      // Settled once every frame written has left (standard output is not ended: the process owns it).
      this.output.write(Buffer.alloc(0), settle);
      return;
    }
    // A connection is ended once every frame written has left; what the client still
    // sends is read and dropped, so the close is orderly (no reset that could lose the
    // last answers on the client's side), and a client that never ends is cut off.
    const timer = setTimeout(() => connection.destroy(), LINGER_MS);
    timer.unref();
    connection.once('close', () => {
      clearTimeout(timer);
      settle();
    });
    connection.end(settle);
    connection.resume();
  }
}

/** Serves one connection until BYE or the end of input; rejects with the error that ended it otherwise. */
export function runAgent(options: AgentOptions): Promise<void> {
  return new Agent(options).done;
}
