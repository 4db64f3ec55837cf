// The NBD transmission phase (docs/NBD.md §4): requests of a connection read, done
// and answered in the order they came, each an ordinary host write or read.
import {MarklogError, VolumeIoError} from '../errors.js';
import {Command, CommandFlag, MAX_PAYLOAD, NbdError, REQUEST_SIZE, decodeRequest, simpleReply, type Request} from '../format/nbd-protocol.js';
import {hostRead, syncEverywhere} from '../io/host-io.js';
import type {ByteReader} from './byte-reader.js';
import type {Connection, ServeContext} from './context.js';
import type {NbdExport} from './exports.js';

const ZEROS = Buffer.alloc(1024 * 1024);

export async function transmit(connection: Connection, reader: ByteReader, context: ServeContext, chosen: NbdExport): Promise<void> {
  const {socket} = connection;
  for (;;) {
    connection.idle = true;
    const header = await reader.read(REQUEST_SIZE);
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
    const {error, data} = handle(context, chosen, request, payload);
    const reply = simpleReply(error, request.cookie);
    const flushed = data && error === 0 ? socket.write(Buffer.concat([reply, data])) : socket.write(reply);
    if (!flushed) await drained(socket);
    if (context.closing) return;
  }
}

/** Resolves once the socket takes more, or has gone: a client that left never drains, and waiting for it kept SIGTERM from finishing. */
function drained(socket: Connection['socket']): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise(resolve => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
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

/** One request, done before the next one is looked at. */
function handle(context: ServeContext, chosen: NbdExport, request: Request, payload?: Buffer): {error: number; data?: Buffer} {
  const {site, writer} = context;
  const fua = (request.flags & CommandFlag.fua) !== 0;
  // A flag it does not know may change what the client meant; doing the request without it would be a guess.
  if ((request.flags & ~flagsAllowed(request.type)) !== 0) return {error: NbdError.inval};
  // A read-only export (READ_ONLY advertised) refuses every kind of write, as the protocol asks.
  if (context.readOnly && WRITES.includes(request.type)) return {error: NbdError.perm};
  try {
    switch (request.type) {
      case Command.read:
        // Longer than the maximum we advertise is EINVAL; EOVERFLOW is only for structured reads with DF.
        if (request.length > MAX_PAYLOAD || !inRange(chosen, request)) return {error: NbdError.inval};
        if (request.length === 0) return {error: 0, data: Buffer.alloc(0)};
        return {error: 0, data: chosen.image ? chosen.image.read(request.offset, request.length) : hostRead(site, chosen.ldev, request.offset, request.length)};
      case Command.write:
        if (!inRange(chosen, request)) return {error: NbdError.nospc};
        if (request.length > 0) writer.write(chosen.ldev, request.offset, payload!, {sync: fua});
        context.written.add(chosen.ldev);
        return {error: 0};
      case Command.trim:
      case Command.writeZeroes:
        // Both read back as zeros here: journalled as zero records (log format 2), so a restore stays exact.
        // Past the end, the protocol names ENOSPC for zeroes (a write) and EINVAL for a trim.
        if (!inRange(chosen, request)) return {error: request.type === Command.trim ? NbdError.inval : NbdError.nospc};
        for (let done = 0; done < request.length; done += ZEROS.length) {
          const piece = Math.min(ZEROS.length, request.length - done);
          writer.write(chosen.ldev, request.offset + done, ZEROS.subarray(0, piece), {sync: fua && done + piece === request.length});
        }
        context.written.add(chosen.ldev);
        return {error: 0};
      case Command.flush:
        // Nothing of a read-only export is ever written, so there is nothing to make durable.
        if (context.readOnly) return {error: 0};
        writer.release();
        site.lock.run(() => syncEverywhere(site, site.view(), site.volume(site.view(), chosen.ldev)));
        return {error: 0};
      case Command.cache:
        return {error: inRange(chosen, request) ? 0 : NbdError.inval};
      default:
        return {error: NbdError.inval};
    }
  } catch (error) {
    return {error: errnoOf(error)};
  }
}
