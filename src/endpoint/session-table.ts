// The sessions a listening agent keeps across connections (docs/WIRE.md §5): for
// each, the id of the last request it applied and the answers the client has not
// acknowledged yet, so that a client whose connection dropped can resume where it
// was instead of failing every request in flight. Memory is bounded: a session
// keeps at most LIMITS.maxAnswers answers and LIMITS.maxBytes bytes of them (past
// that it is let go and a resume is answered as a new session), a session without a
// connection is forgotten after keepMs, and at most maxHeld such sessions wait.
import crypto from 'node:crypto';

export interface SessionLimits {
  /** How long a session whose connection ended waits to be resumed. */
  keepMs: number;
  /** Answers one session keeps unacknowledged, and their bytes. */
  maxAnswers: number;
  maxBytes: number;
  /** Sessions without a connection held at once; past it the one waiting longest is let go. */
  maxHeld: number;
}

/** MARKLOG_AGENT_SESSION_KEEP_MS when it is a whole number of milliseconds, else 60 s. */
function keepMsFromEnv(): number {
  const value = Number(process.env.MARKLOG_AGENT_SESSION_KEEP_MS?.trim() || Number.NaN);
  return Number.isSafeInteger(value) && value >= 0 ? value : 60_000;
}

export function defaultSessionLimits(): SessionLimits {
  return {keepMs: keepMsFromEnv(), maxAnswers: 8192, maxBytes: 64 * 1024 * 1024, maxHeld: 256};
}

/** Whoever serves a session now (one connection): asked to let it go when another connection resumes it. */
export interface SessionOwner {
  /** Stops serving the session; resolves once the request in progress, if any, has finished. */
  release(): Promise<void>;
}

interface KeptAnswer {
  id: number;
  pieces: readonly Uint8Array[];
  bytes: number;
}

function sizeOf(pieces: readonly Uint8Array[]): number {
  return pieces.reduce((sum, piece) => sum + piece.length, 0);
}

/** One session: what it applied and the answers it may have to send again. */
export class AgentSession {
  /** The id of the last request applied (an ERROR counts as applied). */
  applied = 0;
  /** The client's acknowledgement: every answer up to it has arrived. */
  private acked = 0;
  private readonly kept: KeptAnswer[] = [];
  private keptBytes = 0;
  owner: SessionOwner | undefined;
  private expiry: NodeJS.Timeout | undefined;

  constructor(readonly id: string, readonly client: string, private readonly table: SessionTable | undefined) {}

  /** Whether a later connection may still resume it. */
  get held(): boolean {
    return this.table?.holds(this) ?? false;
  }

  /** Request `id` was applied and answered with `pieces` (one encoded frame). */
  applyAnswered(id: number, pieces: readonly Uint8Array[]): void {
    this.applied = id;
    if (!this.held) return;
    const bytes = sizeOf(pieces);
    this.kept.push({id, pieces, bytes});
    this.keptBytes += bytes;
    const limits = this.table!.limits;
    if (this.kept.length > limits.maxAnswers || this.keptBytes > limits.maxBytes) this.table!.forget(this);
  }

  /** The client has every answer up to `ack`: those need not be kept. Acks only go up. */
  acknowledge(ack: number): void {
    if (ack <= this.acked) return;
    this.acked = Math.min(ack, this.applied);
    let drop = 0;
    while (drop < this.kept.length && this.kept[drop].id <= this.acked) this.keptBytes -= this.kept[drop++].bytes;
    if (drop > 0) this.kept.splice(0, drop);
  }

  /**
   * The answers to send again to a client resuming with `ack`: those of requests
   * ack + 1 .. applied, in order; undefined when the client claims what cannot be (an
   * ack above what was applied, or below an ack it already gave).
   */
  answersAfter(ack: number): (readonly Uint8Array[])[] | undefined {
    if (ack > this.applied || ack < this.acked) return undefined;
    this.acknowledge(ack);
    return this.kept.map(answer => answer.pieces);
  }

  /** Kept answers and their bytes, for tests and the limits. */
  get keeping(): {answers: number; bytes: number} {
    return {answers: this.kept.length, bytes: this.keptBytes};
  }

  /** Bound to a connection: it does not expire. */
  attach(owner: SessionOwner): void {
    this.owner = owner;
    this.table?.waiting(this, false);
  }

  /** Its connection ended: it waits keepMs to be resumed, then is forgotten. */
  detach(owner: SessionOwner): void {
    if (this.owner !== owner) return;
    this.owner = undefined;
    this.table?.waiting(this, true);
  }

  /** @internal the table's timer. */
  setExpiry(timer: NodeJS.Timeout | undefined): void {
    if (this.expiry) clearTimeout(this.expiry);
    this.expiry = timer;
  }

  /** @internal let go: nothing more is kept. */
  drop(): void {
    this.setExpiry(undefined);
    this.kept.length = 0;
    this.keptBytes = 0;
  }
}

/** A session id: random, never all zeros (NEW_SESSION asks for one). */
function newSessionId(): string {
  for (;;) {
    const id = crypto.randomBytes(8).toString('hex');
    if (/[^0]/.test(id)) return id;
  }
}

export class SessionTable {
  private readonly sessions = new Map<string, AgentSession>();
  /** Sessions without a connection, oldest first. */
  private readonly detached = new Set<AgentSession>();

  constructor(readonly limits: SessionLimits = defaultSessionLimits()) {}

  /** A new session for `client`, held. */
  open(client: string): AgentSession {
    const session = new AgentSession(newSessionId(), client, this);
    this.sessions.set(session.id, session);
    return session;
  }

  /** A session one connection serves and no other may resume (a stdio agent's: it ends with its connection). */
  static unheld(client: string): AgentSession {
    return new AgentSession(newSessionId(), client, undefined);
  }

  /** The session `id` of `client`, if it is still held; another client's session is not found. */
  find(id: string, client: string): AgentSession | undefined {
    const session = this.sessions.get(id);
    return session && session.client === client ? session : undefined;
  }

  holds(session: AgentSession): boolean {
    return this.sessions.get(session.id) === session;
  }

  /** Lets a session go: a resume of it is answered as a new session. */
  forget(session: AgentSession): void {
    if (!this.holds(session)) return;
    this.sessions.delete(session.id);
    this.detached.delete(session);
    session.drop();
  }

  /** How many sessions are held (with or without a connection). */
  get size(): number {
    return this.sessions.size;
  }

  /** @internal a session lost or found its connection. */
  waiting(session: AgentSession, detached: boolean): void {
    if (!this.holds(session)) return;
    this.detached.delete(session);
    if (!detached) {
      session.setExpiry(undefined);
      return;
    }
    this.detached.add(session);
    const timer = setTimeout(() => this.forget(session), this.limits.keepMs);
    // A session waiting to be resumed does not keep a stopping listener alive.
    timer.unref();
    session.setExpiry(timer);
    for (const oldest of this.detached) {
      if (this.detached.size <= this.limits.maxHeld) break;
      this.forget(oldest);
    }
  }

  /** Forgets every session (the listener stops). */
  clear(): void {
    for (const session of [...this.sessions.values()]) this.forget(session);
  }
}
