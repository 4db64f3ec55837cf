// The NBD transmission phase (docs/NBD.md §4): a connection's requests are read as
// they come and handed to the server's write pipeline without waiting for the one
// before, up to MAX_IN_FLIGHT of them (or MAX_IN_FLIGHT_BYTES of payload); they are
// answered in the order they came, each as soon as it and those before it are done. Before the connection ends
// (DISC, end of stream, shutdown) every request it sent is done and answered.
import {MarklogError, VolumeIoError} from '../errors.js';
import {Command, CommandFlag, MAX_PAYLOAD, NbdError, REQUEST_SIZE, decodeRequest, simpleReply, type Request} from '../format/nbd-protocol.js';
import type {HostRequest} from '../io/write-pipeline.js';
import type {ByteReader} from './byte-reader.js';
import type {Connection, ServeContext} from './context.js';
import type {NbdExport} from './exports.js';
import {drainedOrGone} from '../util/drain.js';

/** Requests of one connection in the pipeline at once: more than any client here keeps (qemu 16, fio's iodepth). */
export const MAX_IN_FLIGHT = 128;
/** Payload bytes of one connection in the pipeline at once (one maximal write always fits). */
export const MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;

interface Answer {
  error: number;
  data?: Buffer;
}

export async function transmit(connection: Connection, reader: ByteReader, context: ServeContext, chosen: NbdExport): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  let bytesInFlight = 0;
  let previous: Promise<void> = Promise.resolve();
  const replies = new Replies(connection);
  try {
    for (;;) {
      while (inFlight.size >= MAX_IN_FLIGHT || bytesInFlight >= MAX_IN_FLIGHT_BYTES) await Promise.race(inFlight);
      // A client that does not read its replies gets no more requests read either.
      if (connection.socket.writableLength >= MAX_IN_FLIGHT_BYTES) await replies.drained();
      if (context.closing) return;
      connection.idle = inFlight.size === 0;
      connection.interrupt = () => reader.interrupt();
      const header = await reader.read(REQUEST_SIZE);
      connection.interrupt = undefined;
      connection.idle = false;
      if (!header) return;
      const request = decodeRequest(header);
      if (!request) return;
      if (request.type === Command.disc) return;
      let payload: Buffer | undefined;
      if (request.type === Command.write) {
        // The payload is read even when the write is refused, so the stream stays in step.
        if (request.length > MAX_PAYLOAD) return;
        payload = await reader.read(request.length);
        if (!payload) return;
      }
      const size = payload?.length ?? 0;
      bytesInFlight += size;
      const answered = answer(context, chosen, request, payload);
      // Answers go out in the order the requests came (an error found at once waits its turn): clients match them by cookie all the same.
      const done: Promise<void> = Promise.all([answered, previous]).then(([result]) => {
        replies.send(request.cookie, result);
        inFlight.delete(done);
        bytesInFlight -= size;
      });
      previous = done;
      inFlight.add(done);
    }
  } finally {
    // What it sent is done and answered whatever ends the connection: nothing it was told is lost.
    await Promise.all(inFlight);
    await replies.drained();
  }
}

/** The replies of a connection, gathered into one socket write per turn of the event loop. */
class Replies {
  private corked = false;

  constructor(private readonly connection: Connection) {}

  send(cookie: Buffer, {error, data}: Answer): void {
    const {socket} = this.connection;
    if (socket.destroyed) return;
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => this.uncork());
    }
    socket.write(simpleReply(error, cookie));
    if (data && error === 0 && data.length > 0) socket.write(data);
  }

  private uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.connection.socket.uncork();
  }

  /**
   * Resolves once the socket has handed every reply to the system, or has gone (a
   * client that left never drains): the connection may then be closed without losing one.
   */
  drained(): Promise<void> {
    this.uncork();
    return drainedOrGone(this.connection.socket);
  }
}

function inRange(chosen: NbdExport, request: Request): boolean {
  return request.offset + request.length <= chosen.capacity;
}

function errnoOf(error: unknown): number {
  if (error instanceof VolumeIoError) return NbdError.io;
  if (error instanceof MarklogError) return error.code === 'VOLUME_IN_USE' || error.code === 'TAKEN_OVER' ? NbdError.perm : NbdError.io;
  return NbdError.io;
}

/** FUA on any command (SEND_FUA is offered), NO_HOLE on WRITE_ZEROES; the protocol asks for EINVAL on any other flag. */
function flagsAllowed(type: number): number {
  return type === Command.writeZeroes ? CommandFlag.fua | CommandFlag.noHole : CommandFlag.fua;
}

const WRITES: number[] = [Command.write, Command.trim, Command.writeZeroes];

/** One request: checked here, done by the pipeline (or the mark image), never thrown. */
async function answer(context: ServeContext, chosen: NbdExport, request: Request, payload?: Buffer): Promise<Answer> {
  const checked = check(context, chosen, request);
  if (typeof checked === 'number') return {error: checked};
  try {
    if (checked === 'nothing') return {error: 0, data: request.type === Command.read ? Buffer.alloc(0) : undefined};
    if (checked === 'mark-read') return {error: 0, data: chosen.image!.read(request.offset, request.length)};
    const data = await context.pipeline.submit(toHostRequest(chosen, request, payload));
    return {error: 0, data};
  } catch (error) {
    return {error: errnoOf(error)};
  }
}

/** An error to answer at once, 'nothing' to do, a read of the mark image, or 'pipeline'. */
function check(context: ServeContext, chosen: NbdExport, request: Request): number | 'nothing' | 'mark-read' | 'pipeline' {
  // A flag it does not know may change what the client meant; doing the request without it would be a guess.
  if ((request.flags & ~flagsAllowed(request.type)) !== 0) return NbdError.inval;
  // A read-only export (READ_ONLY advertised) refuses every kind of write, as the protocol asks.
  if (context.readOnly && WRITES.includes(request.type)) return NbdError.perm;
  switch (request.type) {
    case Command.read:
      // Longer than the maximum we advertise is EINVAL; EOVERFLOW is only for structured reads with DF.
      if (request.length > MAX_PAYLOAD || !inRange(chosen, request)) return NbdError.inval;
      if (request.length === 0) return 'nothing';
      return chosen.image ? 'mark-read' : 'pipeline';
    case Command.write:
      if (!inRange(chosen, request)) return NbdError.nospc;
      return request.length === 0 ? 'nothing' : 'pipeline';
    case Command.trim:
    case Command.writeZeroes:
      // Past the end, the protocol names ENOSPC for zeroes (a write) and EINVAL for a trim.
      if (!inRange(chosen, request)) return request.type === Command.trim ? NbdError.inval : NbdError.nospc;
      return request.length === 0 ? 'nothing' : 'pipeline';
    case Command.flush:
      // Nothing of a read-only export is ever written, so there is nothing to make durable.
      return context.readOnly ? 'nothing' : 'pipeline';
    case Command.cache:
      return inRange(chosen, request) ? 'nothing' : NbdError.inval;
    default:
      return NbdError.inval;
  }
}

function toHostRequest(chosen: NbdExport, request: Request, payload?: Buffer): HostRequest {
  const {ldev} = chosen;
  const fua = (request.flags & CommandFlag.fua) !== 0;
  switch (request.type) {
    case Command.read:
      return {kind: 'read', ldev, offset: request.offset, length: request.length};
    case Command.write:
      return {kind: 'write', ldev, offset: request.offset, data: payload!, fua};
    case Command.flush:
      return {kind: 'flush', ldev};
    default:
      // TRIM and WRITE_ZEROES both read back as zeros here: journalled as zero records (log format 2), so a restore stays exact.
      return {kind: 'zero', ldev, offset: request.offset, length: request.length, fua};
  }
}
