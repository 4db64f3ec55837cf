// `marklog serve` (docs/NBD.md): the site's host-writable volumes as NBD exports, so
// qemu, libnbd's tools, fio or a file system through nbdfuse write to them as to any
// block device. Each request is an ordinary host write or read (replicated, tracked
// or journalled by the pair's state), through one HostWriter per server; requests of
// a connection are answered in the order they came. A `marklog mark` or an admin
// command from another process gets the site between two requests. This file
// listens and keeps the connections; negotiate.ts and transmit.ts speak the protocol.
import net from 'node:net';
import {PlaintextListenError} from '../errors.js';
import {ClientFlag, greeting} from '../format/nbd-protocol.js';
import {syncEverywhere} from '../io/host-io.js';
import {WritePipeline} from '../io/write-pipeline.js';
import type {Site} from '../site/site.js';
import {ByteReader} from './byte-reader.js';
import type {Connection, ServeContext} from './context.js';
import {exportsOf, markExportsOf, type NbdExport} from './exports.js';
import {checkSocketPath, isLoopback, listenTcp, listenUnix} from './listeners.js';
import {negotiate} from './negotiate.js';
import {TlsAcceptor, loadTlsCredentials, type TlsPaths} from './tls.js';
import {transmit} from './transmit.js';
import {WriterClaims, peerOf} from './writers.js';

export type {NbdExport} from './exports.js';

/** Idle time before TCP keepalive probes start on a connection. */
const KEEPALIVE_MS = 60_000;

export interface ServeOptions {
  /** A TCP address to listen on; with neither this nor `socket`, nothing would listen. */
  tcp?: {host: string; port: number};
  /** A Unix socket to listen on, instead of or beside TCP. */
  socket?: string;
  /** Only these LDEVs; default: every volume hosts may write. */
  ldevs?: number[];
  /** Serve a TCP address other than loopback without TLS, although anyone who reaches it can read and write. */
  insecure?: boolean;
  /** Every export READ_ONLY. */
  readOnly?: boolean;
  /** Serve a mark at a remote, read-only, instead of the site's volumes. */
  mark?: {group: number; markId: number; rvol?: number};
  /** Require TLS (STARTTLS, mutual certificates) of every client. */
  tls?: TlsPaths;
  /** What went wrong beside a request's answer (a pair fell to PSUE, a log passed its threshold). */
  onWarning?: (warning: string) => void;
}

export interface NbdServer {
  address?: {host: string; port: number};
  socket?: string;
  tls: boolean;
  readOnly: boolean;
  exports: NbdExport[];
  /** Stops accepting, lets every connection finish its request, makes the writes durable. */
  close(): Promise<void>;
}

export async function serveNbd(site: Site, options: ServeOptions): Promise<NbdServer> {
  if (options.tcp && !isLoopback(options.tcp.host) && !options.tls && !options.insecure) {
    throw new PlaintextListenError(`${options.tcp.host} is not a loopback address, and without TLS anyone reaching it could read and write these volumes`,
      'give --tls-cert, --tls-key and --tls-ca (or --insecure to serve it in plain text anyway)');
  }
  const tls = options.tls ? await loadTlsCredentials(options.tls) : undefined;
  const exports = options.mark ? markExportsOf(site, options.mark) : exportsOf(site, options.ldevs);
  const socketState = options.socket ? await checkSocketPath(options.socket) : undefined;
  const context: ServeContext = {
    site, pipeline: new WritePipeline(site, {onWarning: options.onWarning}), exports, readOnly: (options.readOnly ?? false) || options.mark !== undefined,
    tls: tls && new TlsAcceptor(tls), claims: new WriterClaims(), closing: false,
  };
  const live = new Set<Connection>();
  const connections = new Set<Promise<void>>();
  const accept = (socket: net.Socket, local: boolean) => {
    socket.setNoDelay(true);
    // A TCP client whose host vanished would hold its export for ever (writers.ts); keepalive probes find it out.
    if (!local) socket.setKeepAlive(true, KEEPALIVE_MS);
    // Resets and the like end the connection through its reader; none may go unheard.
    socket.on('error', () => {});
    const connection: Connection = {socket, idle: true, peer: peerOf(socket, local)};
    live.add(connection);
    const done = serveConnection(connection, context).catch(() => {}).finally(() => {
      connection.socket.destroy();
      socket.destroy();
      if (connection.claimed !== undefined) context.claims.release(connection.claimed);
      live.delete(connection);
      connections.delete(done);
    });
    connections.add(done);
  };
  const servers: net.Server[] = [];
  const stopAll = () => Promise.all(servers.map(server => new Promise<void>(resolve => server.close(() => resolve()))));
  let address: {host: string; port: number} | undefined;
  try {
    if (options.tcp) {
      servers.push(net.createServer(socket => accept(socket, false)));
      address = await listenTcp(servers[0], options.tcp.host, options.tcp.port);
    }
    if (options.socket) {
      servers.push(net.createServer(socket => accept(socket, true)));
      await listenUnix(servers.at(-1)!, options.socket, socketState!);
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  return {
    address, socket: options.socket, tls: tls !== undefined, readOnly: context.readOnly, exports,
    async close() {
      context.closing = true;
      const stopped = stopAll();
      // A connection waiting for its client's next word would wait for ever; one with
      // requests in hand is let finish them, and reads no more.
      for (const connection of live) {
        if (connection.idle) connection.socket.destroy();
        else connection.interrupt?.();
      }
      await stopped;
      await Promise.all(connections);
      await context.pipeline.idle();
      for (const ldev of [...context.pipeline.written]) {
        await site.lock.acquireWithoutBlocking();
        try {
          await syncEverywhere(site, site.view(), site.volume(site.view(), ldev));
        } finally {
          site.lock.release();
        }
      }
    },
  };
}

async function serveConnection(connection: Connection, context: ServeContext): Promise<void> {
  const reader = new ByteReader(connection.socket);
  connection.socket.write(greeting());
  const clientFlags = await reader.read(4);
  if (!clientFlags || (clientFlags.readUInt32BE(0) & ~(ClientFlag.fixedNewstyle | ClientFlag.noZeroes)) !== 0) return;
  const noZeroes = (clientFlags.readUInt32BE(0) & ClientFlag.noZeroes) !== 0;
  const negotiated = await negotiate(connection, reader, context, noZeroes);
  if (negotiated) await transmit(connection, negotiated.reader, context, negotiated.chosen);
}
