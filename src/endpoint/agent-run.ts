// The life of `marklog agent`: on standard input and output (one session, under
// SSH), or listening over TLS (agent-listener.ts) until SIGINT or SIGTERM, with one
// readiness line on standard output once it listens, as `marklog serve` prints one.
import {runUntilSignal} from '../util/until-signal.js';
import {AgentPlaintextError, AgentStdioFlagError, TlsFlagsError} from '../errors.js';
import type {TlsPaths} from '../transport/tls-files.js';
import {parseListen} from '../transport/listen-address.js';
import {listenAgent, type AgentListener} from './agent-listener.js';

export interface AgentFlags {
  listen?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  json: boolean;
}

export type AgentMode = {kind: 'stdio'} | {kind: 'listen'; host: string; port: number; tls: TlsPaths};

/** Standard input and output, or a TLS listener: --listen needs all three --tls-* files, and they need --listen. */
export function agentMode(flags: AgentFlags): AgentMode {
  const given = [['--tls-cert', flags.tlsCert], ['--tls-key', flags.tlsKey], ['--tls-ca', flags.tlsCa]] as const;
  const present = given.filter(([, value]) => value !== undefined).map(([name]) => name);
  if (flags.listen === undefined) {
    const stray = [...present, ...(flags.json ? ['--json'] : [])];
    if (stray.length > 0) {
      throw new AgentStdioFlagError(`${stray.join(', ')} ${stray.length === 1 ? 'needs' : 'need'} --listen: without it the agent serves standard input and output, which carry only wire frames`,
        'give --listen HOST:PORT to serve over TLS, or leave them out under SSH');
    }
    return {kind: 'stdio'};
  }
  const {host, port} = parseListen(flags.listen, '0.0.0.0:7010');
  if (present.length === 0) {
    throw new AgentPlaintextError(`--listen ${flags.listen} needs --tls-cert, --tls-key and --tls-ca: the agent does not listen in plain text`,
      'make a CA and certificates as docs/OPERATING.md shows, or run the agent under SSH instead');
  }
  if (present.length < given.length) {
    const missing = given.filter(([, value]) => value === undefined).map(([name]) => name);
    throw new TlsFlagsError(`TLS needs --tls-cert, --tls-key and --tls-ca together; ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} missing`,
      'the agent proves itself with the certificate and key, and accepts only clients whose certificates the CA signed');
  }
  return {kind: 'listen', host, port, tls: {cert: flags.tlsCert!, key: flags.tlsKey!, ca: flags.tlsCa!}};
}

/** tls://host:port, as a primary's `site link --remote` will take it. */
export function agentUrl(listener: AgentListener): string {
  const {host, port} = listener.address;
  return `tls://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function agentReadyJson(listener: AgentListener): object {
  return {listening: {...listener.address, url: agentUrl(listener)}, tls: true, site: listener.site};
}

export function agentReadyText(listener: AgentListener): string {
  const {name, id, role} = listener.site;
  return `agent for ${role} site ${name} (${id}) listening on ${agentUrl(listener)} (TLS: only clients with a certificate the CA signed)`;
}

/** Listens until SIGINT or SIGTERM, then lets the sessions answer the requests in hand, and returns. */
export async function listenUntilSignal(site: string, mode: Extract<AgentMode, {kind: 'listen'}>, ready: (listener: AgentListener) => void, log: (line: string) => void): Promise<void> {
  await runUntilSignal(() => listenAgent({site, host: mode.host, port: mode.port, tls: mode.tls, log}), ready);
}
