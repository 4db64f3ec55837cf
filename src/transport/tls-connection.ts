// The agent over TLS (docs/WIRE.md §2.2): a connection to `marklog agent --listen`,
// this side proving itself with the link's client certificate and checking that
// the agent's certificate chains to the link's CA and names the host connected to.
import net from 'node:net';
import tls from 'node:tls';
import type {TlsCredentials} from './tls-files.js';
import type {WireConnection} from './wire-session.js';
import type {RemoteAddress} from './remote-address.js';

type TlsAddress = Extract<RemoteAddress, {kind: 'tls'}>;

/** As the listener's: a remote machine that vanished is noticed by TCP keepalive. */
const KEEPALIVE_MS = 30_000;

export function tlsConnection(address: TlsAddress, credentials: TlsCredentials): WireConnection {
  let failure = '';
  // The TCP socket is this side's own, so a session given up on can be reset (destroy below).
  const tcp = net.connect({host: address.host, port: address.port});
  tcp.on('error', error => {
    failure ||= error.message;
  });
  const socket = tls.connect({
    socket: tcp,
    host: address.host,
    cert: credentials.cert,
    key: credentials.key,
    ca: credentials.ca,
    // SNI takes names only; an address is checked against the certificate's IP entries all the same.
    ...(net.isIP(address.host) ? {} : {servername: address.host}),
  });
  tcp.setKeepAlive(true, KEEPALIVE_MS);
  // A request is several writes (frame header, arguments, data); with Nagle's algorithm the
  // later ones wait for the agent's delayed ACK of the first (up to 40 ms on Linux).
  tcp.setNoDelay(true);
  socket.on('error', error => {
    failure ||= error.message;
  });
  return {
    input: socket,
    output: socket,
    why: () => failure,
    // A reset, not a close: a close leaves the requests still queued in the kernel to be sent, and
    // once a stalled link heals the agent would apply writes this side has failed and tracked for
    // resync, perhaps after the resync copied their chunks (WIRE.md §2.3). A reset discards them.
    destroy: () => {
      if (!tcp.destroyed) tcp.resetAndDestroy();
      socket.destroy();
    },
    ref: on => {
      if (on) {
        tcp.ref();
        socket.ref();
      } else {
        tcp.unref();
        socket.unref();
      }
    },
  };
}
