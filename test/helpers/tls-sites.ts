// Two sites on this machine, the primary linked over mutual TLS to a real
// `marklog agent --listen` of the remote: the setting of the tests that stop the
// agent (SIGSTOP) to hold writes on their way.
import path from 'node:path';
import type {ExecutionContext} from 'ava';
import {cli} from './cli.js';
import {listeningAgent, type ListeningAgent} from './agent-tls.js';
import {tempDir} from './sites.js';
import {makeCertificates} from './tls-certs.js';

/** Runs a marklog command that must succeed. */
export function ok(args: string[]): void {
  const result = cli(args);
  if (result.code !== 0) throw new Error(`marklog ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
}

/** Links the primary to a TLS agent of the remote, started for the test. */
export async function linkedOverTls(t: ExecutionContext, primary: string, remote: string): Promise<ListeningAgent> {
  const certs = makeCertificates(t);
  const agent = await listeningAgent(t, remote, certs);
  ok(['site', 'link', '--site', primary, '--remote', `tls://127.0.0.1:${agent.port}`, '--tls-cert', certs.client.cert, '--tls-key', certs.client.key, '--tls-ca', certs.client.ca]);
  return agent;
}

/** A primary and a remote with one volume each of `size`, not linked. */
export function unlinkedSites(t: ExecutionContext, size: string): {dir: string; primary: string; remote: string} {
  const dir = tempDir(t);
  const primary = path.join(dir, 'tokyo');
  const remote = path.join(dir, 'osaka');
  ok(['site', 'init', primary, '--role', 'primary']);
  ok(['site', 'init', remote, '--role', 'remote']);
  ok(['volume', 'create', '--site', primary, '--size', size]);
  ok(['volume', 'create', '--site', remote, '--size', size]);
  return {dir, primary, remote};
}

/** A primary and a remote with one volume each of `size`, linked over TLS; `before` runs before the link (to fill the M-VOL). */
export async function sitesOverTls(t: ExecutionContext, size: string, before?: (primary: string, dir: string) => void): Promise<{dir: string; primary: string; remote: string; agent: ListeningAgent}> {
  const {dir, primary, remote} = unlinkedSites(t, size);
  before?.(primary, dir);
  return {dir, primary, remote, agent: await linkedOverTls(t, primary, remote)};
}
