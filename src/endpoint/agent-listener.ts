// `marklog agent --listen HOST:PORT`: the remote's end of the link over TLS with
// mutual certificates (docs/WIRE.md §2.2). A client must present a certificate the
// CA signed: one without, one another CA signed, or one that does not speak TLS is
// refused by the handshake itself, so not a byte of its frames is ever read. Each
// connection that passes is one wire session, served by the same Agent as standard
// input and output; sessions run side by side, each with its own handle on the site.
import type net from 'node:net';
import tls from 'node:tls';
import {loadTlsCredentials, type TlsPaths} from '../transport/tls-files.js';
import {Site} from '../site/site.js';
import {Agent} from './agent.js';
import {SessionTable} from './session-table.js';
import {hello as identity} from './volumes.js';

/** A client has this long to finish its TLS handshake. */
const HANDSHAKE_TIMEOUT_MS = 30_000;
/** TCP keepalive: a primary whose machine vanished is noticed, and its session ended. */
const KEEPALIVE_MS = 30_000;

export interface AgentListenOptions {
  site: string;
  host: string;
  port: number;
  tls: TlsPaths;
  /** One line for people (standard error): refused clients, sessions that ended in an error. */
  log?: (line: string) => void;
}

export interface AgentListener {
  address: {host: string; port: number};
  site: {id: string; name: string; role: string};
  /** Stops listening; the sessions answer the requests in hand and end. Resolves when all have. */
  close(): Promise<void>;
}

function peerOf(socket: net.Socket): string {
  const host = socket.remoteAddress ?? 'unknown';
  return `${host.includes(':') ? `[${host}]` : host}:${socket.remotePort ?? '?'}`;
}

export async function listenAgent(options: AgentListenOptions): Promise<AgentListener> {
  const log = options.log ?? (() => {});
  // The directory and the files are checked before anything listens: a mistake is one line at start-up.
  const probe = Site.open(options.site);
  let site: AgentListener['site'];
  try {
    site = identity(probe);
  } finally {
    probe.close();
  }
  const credentials = await loadTlsCredentials(options.tls);
  const sessions = new Set<Agent>();
  /** Sessions outlive connections here: the listener outlives them (WIRE.md §5). */
  const table = new SessionTable();
  const finished = new Set<Promise<void>>();
  /** Connections still in their handshake, by peer address (one TCP connection each): cut at close, as they have asked for nothing yet. */
  const handshaking = new Map<string, net.Socket>();
  let closing = false;

  const server = tls.createServer({
    ...credentials, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2', handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
  });
  server.on('connection', (raw: net.Socket) => {
    raw.setNoDelay(true);
    raw.setKeepAlive(true, KEEPALIVE_MS);
    const peer = peerOf(raw);
    handshaking.set(peer, raw);
    raw.once('close', () => {
      if (handshaking.get(peer) === raw) handshaking.delete(peer);
    });
  });
  server.on('tlsClientError', (error: Error & {code?: string}, socket: tls.TLSSocket) => {
    log(`marklog agent: refused ${peerOf(socket)} during the TLS handshake: ${error.code ?? error.message}`);
    socket.destroy();
  });
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    const peer = peerOf(socket);
    handshaking.delete(peer);
    // rejectUnauthorized already refused the rest; this is the last word, not the only one.
    if (!socket.authorized || closing) {
      socket.destroy();
      return;
    }
    // Resets and the like end the session through its input; none may go unheard.
    socket.on('error', () => {});
    let agent: Agent;
    try {
      agent = new Agent({site: options.site, connection: socket, log, sessions: table});
    } catch (error) {
      log(`marklog agent: ${peer}: ${(error as Error).message}`);
      socket.destroy();
      return;
    }
    sessions.add(agent);
    const done = agent.done.catch(error => log(`marklog agent: the session of ${peer} ended: ${(error as Error).message}`)).finally(() => {
      sessions.delete(agent);
      finished.delete(done);
    });
    finished.add(done);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;
  return {
    address: {host: address.address, port: address.port},
    site,
    async close() {
      closing = true;
      const stopped = new Promise<void>(resolve => server.close(() => resolve()));
      for (const raw of handshaking.values()) raw.destroy();
      for (const agent of sessions) agent.stop();
      await Promise.all(finished);
      table.clear();
      await stopped;
    },
  };
}
