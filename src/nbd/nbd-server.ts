// `marklog serve` (docs/NBD.md): the site's host-writable volumes as NBD exports, so
// qemu, libnbd's tools, fio or a file system through nbdfuse write to them as to any
// block device. Each request is an ordinary host write or read (replicated, tracked
// or journalled by the pair's state), through one HostWriter per server; requests of
// a connection are answered in the order they came. A `marklog mark` or an admin
// command from another process gets the site between two requests.
import net from 'node:net';
import {InvalidArgumentError, MarklogError, VolumeIoError} from '../errors.js';
import {
  Command, CommandFlag, ClientFlag, IHAVEOPT, MAX_PAYLOAD, NbdError, Option, OptionReply, REQUEST_SIZE, TransmissionFlag,
  decodeRequest, exportNameAnswer, greeting, infoBlockSize, infoExport, optionReply, serverEntry, simpleReply, type Request,
} from '../format/nbd-protocol.js';
import {checkHostAccess, hostRead, syncEverywhere} from '../io/host-io.js';
import {HostWriter} from '../io/host-writer.js';
import type {Site} from '../site/site.js';
import {ByteReader} from './byte-reader.js';

export interface NbdExport {
  ldev: number;
  /** The names a client may ask for: the LDEV number, the volume id, and "" when it is the only export. */
  names: string[];
  capacity: number;
}

export interface ServeOptions {
  host: string;
  port: number;
  /** Only these LDEVs; default: every volume hosts may write. */
  ldevs?: number[];
  /** Allow an address other than loopback (no TLS yet: anyone who reaches it can write). */
  insecure?: boolean;
}

export interface NbdServer {
  address: {host: string; port: number};
  exports: NbdExport[];
  /** Stops accepting, lets every connection finish its request, makes the writes durable. */
  close(): Promise<void>;
}

const FLAGS = TransmissionFlag.hasFlags | TransmissionFlag.sendFlush | TransmissionFlag.sendFua | TransmissionFlag.sendTrim
  | TransmissionFlag.sendWriteZeroes | TransmissionFlag.sendCache;
const ZEROS = Buffer.alloc(1024 * 1024);

function loopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** The exports of a site: every volume hosts may write now (or the ones asked for). */
export function exportsOf(site: Site, ldevs?: number[]): NbdExport[] {
  const tables = site.view();
  const chosen = ldevs ? ldevs.map(ldev => site.volume(tables, ldev)) : tables.volumes.filter(v => {
    try {
      checkHostAccess(tables, v, true);
      return true;
    } catch {
      return false;
    }
  });
  if (ldevs) for (const volume of chosen) checkHostAccess(tables, volume, true);
  if (chosen.length === 0) throw new InvalidArgumentError(`${tables.site.name} has no volume hosts may write; create one with \`marklog volume create\``);
  return chosen.map(v => ({ldev: v.ldev, names: [String(v.ldev), v.id, ...(chosen.length === 1 ? [''] : [])], capacity: v.capacity}));
}

export async function serveNbd(site: Site, options: ServeOptions): Promise<NbdServer> {
  if (!loopback(options.host) && !options.insecure) {
    throw new InvalidArgumentError(`${options.host} is not a loopback address; NBD has no TLS here yet, so anyone reaching it could write: add --insecure to serve it anyway`);
  }
  const exports = exportsOf(site, options.ldevs);
  const writer = new HostWriter(site);
  const context: Context = {site, writer, exports, written: new Set<number>(), closing: false};
  const live = new Set<Connection>();
  const connections = new Set<Promise<void>>();
  const server = net.createServer(socket => {
    socket.setNoDelay(true);
    const connection = {socket, idle: true};
    live.add(connection);
    const done = serveConnection(connection, context).catch(() => {}).finally(() => {
      socket.destroy();
      live.delete(connection);
      connections.delete(done);
    });
    connections.add(done);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  return {
    address: {host: address.address, port: address.port}, exports,
    async close() {
      context.closing = true;
      const stopped = new Promise<void>(resolve => server.close(() => resolve()));
      // A connection waiting for its client's next word would wait for ever; one in the
      // middle of a request is let finish it (transmit looks at `closing` after each reply).
      for (const connection of live) if (connection.idle) connection.socket.destroy();
      await stopped;
      await Promise.all(connections);
      for (const ldev of context.written) site.lock.run(() => syncEverywhere(site, site.view(), site.volume(site.view(), ldev)));
      writer.release();
    },
  };
}

interface Context {
  site: Site;
  writer: HostWriter;
  exports: NbdExport[];
  written: Set<number>;
  /** SIGTERM or SIGINT came: finish the request in hand, take no more. */
  closing: boolean;
}

interface Connection {
  socket: net.Socket;
  /** In the handshake or between two requests: nothing the client sent is half done. */
  idle: boolean;
}

async function serveConnection(connection: Connection, context: Context): Promise<void> {
  const {socket} = connection;
  const reader = new ByteReader(socket);
  socket.write(greeting());
  const clientFlags = await reader.read(4);
  if (!clientFlags || (clientFlags.readUInt32BE(0) & ~(ClientFlag.fixedNewstyle | ClientFlag.noZeroes)) !== 0) return;
  const noZeroes = (clientFlags.readUInt32BE(0) & ClientFlag.noZeroes) !== 0;
  const chosen = await negotiate(socket, reader, context, noZeroes);
  if (chosen) await transmit(connection, reader, context, chosen);
}

function findExport(context: Context, name: string): NbdExport | undefined {
  return context.exports.find(e => e.names.includes(name));
}

/** The option haggling; the export the client settled on, or undefined when it left. */
async function negotiate(socket: net.Socket, reader: ByteReader, context: Context, noZeroes: boolean): Promise<NbdExport | undefined> {
  for (;;) {
    const head = await reader.read(16);
    if (!head || head.readBigUInt64BE(0) !== IHAVEOPT) return undefined;
    const option = head.readUInt32BE(8);
    const length = head.readUInt32BE(12);
    if (length > 64 * 1024) return undefined;
    const data = await reader.read(length);
    if (!data) return undefined;
    if (option === Option.exportName) {
      const chosen = findExport(context, data.toString('utf8'));
      // Unknown here can only end the connection: this option has no error reply.
      if (!chosen) return undefined;
      socket.write(exportNameAnswer(chosen.capacity, FLAGS, noZeroes));
      return chosen;
    }
    if (option === Option.abort) {
      socket.write(optionReply(option, OptionReply.ack));
      return undefined;
    }
    if (option === Option.list) {
      if (length !== 0) {
        socket.write(optionReply(option, OptionReply.errInvalid));
        continue;
      }
      for (const e of context.exports) socket.write(optionReply(option, OptionReply.server, serverEntry(String(e.ldev), `LDEV ${e.ldev} (${e.names[1]})`)));
      socket.write(optionReply(option, OptionReply.ack));
      continue;
    }
    if (option === Option.info || option === Option.go) {
      // u32 name length, the name, u16 count, count × u16 information requests, and nothing more:
      // a GO whose count is off is as malformed as one whose name is, and must not start transmission.
      const nameLength = length >= 6 ? data.readUInt32BE(0) : -1;
      const requests = nameLength >= 0 && 6 + nameLength <= length ? data.readUInt16BE(4 + nameLength) : -1;
      if (requests < 0 || length !== 6 + nameLength + 2 * requests) {
        socket.write(optionReply(option, OptionReply.errInvalid));
        continue;
      }
      const chosen = findExport(context, data.toString('utf8', 4, 4 + nameLength));
      if (!chosen) {
        socket.write(optionReply(option, OptionReply.errUnknown, Buffer.from(`no export named "${data.toString('utf8', 4, 4 + nameLength)}"`)));
        continue;
      }
      socket.write(optionReply(option, OptionReply.info, infoExport(chosen.capacity, FLAGS)));
      socket.write(optionReply(option, OptionReply.info, infoBlockSize(1, 4096, MAX_PAYLOAD)));
      socket.write(optionReply(option, OptionReply.ack));
      if (option === Option.go) return chosen;
      continue;
    }
    // STARTTLS, structured replies, meta contexts, anything newer: not spoken here.
    socket.write(optionReply(option, OptionReply.errUnsup));
  }
}

async function transmit(connection: Connection, reader: ByteReader, context: Context, chosen: NbdExport): Promise<void> {
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
function drained(socket: net.Socket): Promise<void> {
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

/** One request, done before the next one is looked at. */
function handle(context: Context, chosen: NbdExport, request: Request, payload?: Buffer): {error: number; data?: Buffer} {
  const {site, writer} = context;
  const fua = (request.flags & CommandFlag.fua) !== 0;
  // A flag it does not know may change what the client meant; doing the request without it would be a guess.
  if ((request.flags & ~flagsAllowed(request.type)) !== 0) return {error: NbdError.inval};
  try {
    switch (request.type) {
      case Command.read:
        // Longer than the maximum we advertise is EINVAL; EOVERFLOW is only for structured reads with DF.
        if (request.length > MAX_PAYLOAD || !inRange(chosen, request)) return {error: NbdError.inval};
        return {error: 0, data: request.length === 0 ? Buffer.alloc(0) : hostRead(site, chosen.ldev, request.offset, request.length)};
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
