// What the parts of `marklog serve` share: the server's state, and one connection's.
import type net from 'node:net';
import type {HostWriter} from '../io/host-writer.js';
import type {Site} from '../site/site.js';
import type {NbdExport} from './exports.js';
import type {TlsAcceptor} from './tls.js';
import type {Peer, WriterClaims} from './writers.js';

export interface ServeContext {
  site: Site;
  writer: HostWriter;
  exports: NbdExport[];
  /** Every export READ_ONLY: no write of any kind is done. */
  readOnly: boolean;
  /** TLS is required of every client (forced mode) when set; it does their handshakes. */
  tls?: TlsAcceptor;
  claims: WriterClaims;
  /** LDEVs written since the start, made durable at shutdown. */
  written: Set<number>;
  /** SIGTERM or SIGINT came: finish the request in hand, take no more. */
  closing: boolean;
}

export interface Connection {
  /** What the server reads and writes: the TLS socket once STARTTLS is done. */
  socket: net.Socket;
  /** In the handshake or between two requests: nothing the client sent is half done. */
  idle: boolean;
  peer: Peer;
  /** The LDEV this connection holds for its host under the one-writer rule. */
  claimed?: number;
}
