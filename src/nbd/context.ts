// What the parts of `marklog serve` share: the server's state, and one connection's.
import type net from 'node:net';
import type {WritePipeline} from '../io/write-pipeline.js';
import type {Site} from '../site/site.js';
import type {NbdExport} from './exports.js';
import type {TlsAcceptor} from './tls.js';
import type {Peer, WriterClaims} from './writers.js';

export interface ServeContext {
  site: Site;
  /** Every host request of every connection goes through it, in the order they came. */
  pipeline: WritePipeline;
  exports: NbdExport[];
  /** Every export READ_ONLY: no write of any kind is done. */
  readOnly: boolean;
  /** TLS is required of every client (forced mode) when set; it does their handshakes. */
  tls?: TlsAcceptor;
  claims: WriterClaims;
  /** SIGTERM or SIGINT came: finish the requests in hand, take no more. */
  closing: boolean;
}

export interface Connection {
  /** What the server reads and writes: the TLS socket once STARTTLS is done. */
  socket: net.Socket;
  /** In the handshake or between two requests with none in hand: nothing the client sent is half done. */
  idle: boolean;
  /** Set while waiting for the client's next request: stops that wait (shutdown), as if the client had gone. */
  interrupt?: () => void;
  peer: Peer;
  /** The LDEV this connection holds for its host under the one-writer rule. */
  claimed?: number;
}
