// The requests of one wire session that wait for an answer (docs/WIRE.md §5), by id:
// what the session acknowledges (the highest id up to which every answer is in), what
// it sends again on a resumed connection, and what it fails, each naming its method and
// id, when the session cannot vouch for them.
import {RemoteUnreachableError, type MarklogError} from '../errors.js';
import type {WireMethodName} from '../format/wire-methods.js';

export interface Reply {
  json: unknown;
  data: Buffer;
}

export interface Pending {
  method: WireMethodName;
  json: unknown;
  /** Kept until answered, to be sent again on a resumed connection. */
  binary: Uint8Array | undefined;
  /** When it was asked for: the link's timeout counts from here, across reconnects. */
  asked: number;
  /** Sent on some connection of this session (a request asked for while reconnecting is not yet). */
  sent: boolean;
  resolve(reply: Reply): void;
  reject(error: unknown): void;
}

/** The error a request without an answer fails with: the cause, and which request it was. */
export function unanswered(cause: MarklogError, id: number, pending: Pending): MarklogError {
  return cause instanceof RemoteUnreachableError
    ? new RemoteUnreachableError(`${cause.message}; request ${id} (${pending.method}) has no answer, so whether it took effect is unknown`, cause.hint)
    : cause;
}

export class WaitingRequests {
  private readonly byId = new Map<number, Pending>();
  private next = 1;

  get size(): number {
    return this.byId.size;
  }

  /** The id the next request will get. */
  get nextId(): number {
    return this.next;
  }

  /** The highest id up to which every answer has arrived. */
  get ack(): number {
    for (const id of this.byId.keys()) return id - 1;
    return this.next - 1;
  }

  /** An id for a request that waits for no answer here (the `close` at the end). */
  takeId(): number {
    return this.next++;
  }

  /** Takes the next id for a request that waits for its answer. */
  add(pending: Pending): number {
    const id = this.next++;
    this.byId.set(id, pending);
    return id;
  }

  /** The request an answer is for, no longer waiting. */
  answered(id: number): Pending | undefined {
    const pending = this.byId.get(id);
    this.byId.delete(id);
    return pending;
  }

  /** When the oldest waiting request was asked for (Infinity when none waits). */
  oldestAsked(): number {
    let oldest = Infinity;
    for (const pending of this.byId.values()) oldest = Math.min(oldest, pending.asked);
    return oldest;
  }

  /** The waiting requests above `id`, in id order: those a resumed session sends again. */
  above(id: number): [number, Pending][] {
    return [...this.byId].filter(([waiting]) => waiting > id);
  }

  /**
   * A new session in place of the lost one: the requests sent on it fail with `cause`
   * (whether they took effect is unknown), and those never sent are numbered again from
   * 1, in order, and returned to be sent.
   */
  renumberForNewSession(cause: MarklogError): [number, Pending][] {
    const unsent: Pending[] = [];
    for (const [id, pending] of this.byId) {
      if (pending.sent) pending.reject(unanswered(cause, id, pending));
      else unsent.push(pending);
    }
    this.byId.clear();
    this.next = 1;
    return unsent.map(pending => [this.add(pending), pending]);
  }

  /** Every waiting request fails with `cause`, naming itself. */
  rejectAll(cause: MarklogError): void {
    for (const [id, pending] of this.byId) pending.reject(unanswered(cause, id, pending));
    this.byId.clear();
  }
}
