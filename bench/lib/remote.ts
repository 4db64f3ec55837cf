// What the wire rows (24-33) reach a remote site through, all on this machine: an
// ssh stand-in, `marklog agent --listen` over mutual TLS, the delaying proxy, and
// the TLS sink with its sender (the baseline of a copy over TLS). One RemoteKit per
// row group: it makes the certificates and the stand-in in the group's directory,
// sets MARKLOG_SSH and MARKLOG_REMOTE_COMMAND for the bench and the servers it
// starts (restored by stop()), and stops every process it started.
import fs from 'node:fs';
import path from 'node:path';
import {Readable} from 'node:stream';
import tls from 'node:tls';
import {tlsConnection} from '../../src/transport/tls-connection.js';
import {loadTlsCredentials, type TlsCredentials} from '../../src/transport/tls-files.js';
import {WireLink} from '../../src/transport/wire-link.js';
import {randomClientId} from '../../src/transport/wire-session.js';
import {BIN, eachStep, program, startReady, type Ready} from './child.js';
import type {Reach} from './fixtures.js';
import {now, since} from './measure.js';
import {makeCertificates, type BenchCertificates} from './tls-certs.js';

export type ReachKind = 'directory' | 'ssh' | 'tls';

/**
 * ssh for MARKLOG_SSH: marklog runs `STAND-IN -o BatchMode=yes [-p PORT] -- HOST 'REMOTE
 * COMMAND'` (src/transport/ssh-connection.ts); this runs the last argument with sh -c,
 * as sshd hands it to the user's shell, so the agent is a child process on ssh's pipes.
 */
const SSH_STAND_IN = `#!/bin/sh
# marklog bench: ssh without the network. The remote command is the last argument.
for last; do :; done
exec sh -c "$last"
`;

const ENV_KEYS = ['MARKLOG_SSH', 'MARKLOG_REMOTE_COMMAND'] as const;

export class RemoteKit {
  readonly certs: BenchCertificates;
  readonly sshStandIn: string;
  private readonly started: Ready<unknown>[] = [];
  private readonly savedEnv: Partial<Record<typeof ENV_KEYS[number], string>> = {};

  constructor(readonly dir: string) {
    fs.mkdirSync(dir, {recursive: true});
    this.certs = makeCertificates(path.join(dir, 'pki'));
    this.sshStandIn = path.join(dir, 'ssh-stand-in.sh');
    fs.writeFileSync(this.sshStandIn, SSH_STAND_IN, {mode: 0o755});
    for (const key of ENV_KEYS) this.savedEnv[key] = process.env[key];
    // Words split on blanks (ssh-connection.ts): the paths must have none.
    for (const word of [this.sshStandIn, process.execPath, BIN]) if (/\s/.test(word)) throw new Error(`the ssh rows need paths without blanks: ${word}`);
    process.env.MARKLOG_SSH = this.sshStandIn;
    process.env.MARKLOG_REMOTE_COMMAND = `${process.execPath} ${BIN}`;
  }

  /** The primary's files for `site link --tls-cert --tls-key --tls-ca`. */
  get clientFiles(): {cert: string; key: string; ca: string} {
    return {...this.certs.client, ca: this.certs.ca};
  }

  private async start<T>(command: string[], what: string): Promise<Ready<T>> {
    const ready = await startReady<T>(command, what);
    this.started.push(ready);
    return ready;
  }

  /** `marklog agent --site DIR --listen 127.0.0.1:0 --tls-* --json`: its port. */
  async agent(site: string): Promise<number> {
    const {server, ca} = this.certs;
    const agent = await this.start<{listening: {port: number}}>([process.execPath, BIN, 'agent', '--site', site, '--listen', '127.0.0.1:0',
      '--tls-cert', server.cert, '--tls-key', server.key, '--tls-ca', ca, '--json'], `marklog agent --site ${site}`);
    return agent.ready.listening.port;
  }

  /** A delaying proxy (delay-proxy.ts) in front of 127.0.0.1:`port`: its own port. */
  async proxy(port: number, delayMs: number): Promise<number> {
    const proxy = await this.start<{port: number}>([process.execPath, program('lib/delay-proxy'), '--to', `127.0.0.1:${port}`, '--delay-ms', String(delayMs)], 'the delaying proxy');
    return proxy.ready.port;
  }

  /** A TLS sink (tls-sink.ts) writing what it receives to `out`: its port. */
  async sink(out: string): Promise<number> {
    const {server, ca} = this.certs;
    const sink = await this.start<{port: number}>([process.execPath, program('lib/tls-sink'), '--cert', server.cert, '--key', server.key, '--ca', ca, '--out', out], 'the TLS sink');
    return sink.ready.port;
  }

  /**
   * How twoSites links the primary for `kind`: the remote's directory; ssh://127.0.0.1/DIR
   * (the stand-in); or tls:// to an agent started on the remote (through a delaying
   * proxy when `delayMs` is given, whose port `onPorts` learns with the agent's).
   */
  reach(kind: ReachKind, delay?: {delayMs: number; onPorts: (ports: {agent: number; proxy: number}) => void}): Reach {
    return async remoteDir => {
      if (kind === 'directory') return {remote: remoteDir};
      if (kind === 'ssh') return {remote: `ssh://127.0.0.1${remoteDir}`};
      const agent = await this.agent(remoteDir);
      let port = agent;
      if (delay) {
        port = await this.proxy(agent, delay.delayMs);
        delay.onPorts({agent, proxy: port});
      }
      return {remote: `tls://127.0.0.1:${port}`, options: {tls: this.clientFiles}};
    };
  }

  async credentials(): Promise<TlsCredentials> {
    return loadTlsCredentials(this.clientFiles);
  }

  /** Stops every process started here (the last first) and puts the environment back. */
  async stop(): Promise<void> {
    await eachStep([
      ...this.started.splice(0).reverse().map(child => () => child.stop()),
      () => {
        for (const key of ENV_KEYS) {
          if (this.savedEnv[key] === undefined) delete process.env[key];
          else process.env[key] = this.savedEnv[key];
        }
      },
    ]);
  }
}

/**
 * Seconds one request takes when each waits for the answer to the one before: `count`
 * DESCRIBE VOLUME requests, one at a time, on a new wire session to the agent at
 * 127.0.0.1:`port` (after one untimed request), the one-write-per-round-trip pace.
 */
export async function roundTrip(port: number, credentials: TlsCredentials, count: number): Promise<number> {
  const link = await WireLink.open({address: `tls://127.0.0.1:${port}`, client: randomClientId(), site: '', retries: 0,
    connect: async () => tlsConnection({kind: 'tls', host: '127.0.0.1', port}, credentials)});
  try {
    await link.describeVolume(0);
    const t = now();
    for (let i = 0; i < count; i++) await link.describeVolume(0);
    return since(t) / count;
  } finally {
    link.close();
  }
}

export interface Sent {
  /** From the connection's start (the handshake included, as a link's first request includes it) to the sink's answer. */
  seconds: number;
  /** From the end of the handshake to the answer. */
  afterHandshake: number;
}

/** Sends `length` bytes of `file` (or zeros, without a file) to a TLS sink at 127.0.0.1:`port` and waits for its "ok". */
export function sendOverTls(port: number, credentials: TlsCredentials, length: number, file?: string): Promise<Sent> {
  const t = now();
  let secure = t;
  return new Promise((resolve, reject) => {
    const socket = tls.connect({host: '127.0.0.1', port, ...credentials});
    socket.setNoDelay(true);
    let answer = '';
    socket.on('error', reject);
    socket.on('data', chunk => (answer += chunk));
    socket.on('end', () => {
      if (answer === 'ok') resolve({seconds: since(t), afterHandshake: since(secure)});
      else reject(new Error(`the TLS sink answered ${JSON.stringify(answer)}`));
      socket.end();
    });
    socket.once('secureConnect', () => {
      secure = now();
      const header = Buffer.alloc(8);
      header.writeBigUInt64BE(BigInt(length));
      socket.write(header);
      const source = file
        ? fs.createReadStream(file, {start: 0, end: length - 1, highWaterMark: 1024 * 1024})
        : zeros(length);
      source.on('error', reject);
      source.pipe(socket, {end: false});
    });
  });
}

/** A stream of `length` zero bytes, in 1 MiB pieces. */
function zeros(length: number): Readable {
  const piece = Buffer.alloc(1024 * 1024);
  let left = length;
  return new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const n = Math.min(left, piece.length);
      left -= n;
      this.push(n === piece.length ? piece : piece.subarray(0, n));
    },
  });
}
