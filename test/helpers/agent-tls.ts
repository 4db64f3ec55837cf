// `marklog agent --listen` as a real process, waiting for its readiness line, and
// node:tls clients of it with the throwaway certificates of tls-certs.ts.
import {spawn, type ChildProcess} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import path from 'node:path';
import type {ExecutionContext} from 'ava';
import {initSite} from '../../src/site/site-admin.js';
import {Site} from '../../src/site/site.js';
import {createVolume} from '../../src/volume/volume-admin.js';
import {BIN} from './cli.js';
import {tempDir} from './sites.js';
import {exited, killIfRunning, type Exit} from './processes.js';
import type {Certificates} from './tls-certs.js';
import {waitFor} from './wait.js';

export interface AgentReady {
  listening: {host: string; port: number; url: string};
  tls: boolean;
  site: {id: string; name: string; role: string};
}

export interface ListeningAgent {
  child: ChildProcess;
  ready: AgentReady;
  port: number;
  stderr: () => string;
  done: Promise<Exit>;
}

/** The agent's --tls-* flags for the test CA's server certificate. */
export function agentTlsFlags(certs: Certificates): string[] {
  return ['--tls-cert', certs.server.cert, '--tls-key', certs.server.key, '--tls-ca', certs.server.ca];
}

/** Starts any command that prints the agent's readiness line first (`wrap`: a command to run it under); SIGKILLed at teardown. */
export async function startListening(t: ExecutionContext, command: string[]): Promise<ListeningAgent> {
  const child = spawn(command[0], command.slice(1), {stdio: ['ignore', 'pipe', 'pipe']});
  t.teardown(() => killIfRunning(child));
  const done = exited(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', chunk => (out += chunk));
  child.stderr!.on('data', chunk => (err += chunk));
  await waitFor(() => out.includes('\n') || child.exitCode !== null, {what: 'marklog agent to print its readiness line', seen: () => `${out}${err}`});
  if (!out.includes('\n')) {
    const exit = await done;
    throw new Error(`marklog agent ended (${exit.code ?? exit.signal}) before it listened: ${err}${out}`);
  }
  const ready = JSON.parse(out.split('\n')[0]) as AgentReady;
  return {child, ready, port: ready.listening.port, stderr: () => err, done};
}

/** `marklog agent --site DIR --listen 127.0.0.1:0 --tls-* --json`. */
export function listeningAgent(t: ExecutionContext, site: string, certs: Certificates, listen = '127.0.0.1:0', wrap: string[] = []): Promise<ListeningAgent> {
  return startListening(t, [...wrap, process.execPath, BIN, 'agent', '--site', site, '--listen', listen, ...agentTlsFlags(certs), '--json']);
}

export interface ClientCredentials {
  cert?: string;
  key?: string;
  /** The CAs this client trusts the agent's certificate by. */
  ca: string[];
}

/** A TLS connection, resolved once the client's side of the handshake is done (in TLS 1.3, before the agent has judged the client's certificate). */
export function connectTls(port: number, credentials: ClientCredentials, host = '127.0.0.1'): Promise<tls.TLSSocket> {
  const read = (file?: string) => (file ? fs.readFileSync(file) : undefined);
  const socket = tls.connect({host, port, cert: read(credentials.cert), key: read(credentials.key), ca: credentials.ca.map(file => fs.readFileSync(file))});
  return new Promise((resolve, reject) => {
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** A plaintext TCP connection to the agent's port. */
export function connectPlain(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  const socket = net.connect(port, host);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** SIGTERM, then how it ended. */
export async function stopAgent(agent: ListeningAgent): Promise<Exit> {
  agent.child.kill('SIGTERM');
  return agent.done;
}

/** A remote site, osaka, in a fresh temp directory, with one volume of `capacity` bytes, for an agent to serve. */
export function remoteSiteDir(t: ExecutionContext, capacity: number): string {
  const dir = path.join(tempDir(t), 'osaka');
  initSite({dir, role: 'remote'});
  const site = Site.open(dir);
  createVolume(site, capacity);
  site.close();
  return dir;
}
