// The life of `marklog serve`: turn its flags into options, listen, say so on one
// line, serve until SIGINT or SIGTERM, then let the connections finish, make every
// write durable and return.
import {runUntilSignal} from '../util/until-signal.js';
import {InvalidArgumentError, TlsFlagsError} from '../errors.js';
import type {Site} from '../site/site.js';
import {isLoopback} from './listeners.js';
import {serveNbd, type NbdServer, type ServeOptions} from './nbd-server.js';
import {parseListen} from '../transport/listen-address.js';

export {parseListen} from '../transport/listen-address.js';

export const DEFAULT_LISTEN = '127.0.0.1:10809';

/** `--vol 0,2`: LDEV numbers separated by commas. */
export function parseLdevList(text: string): number[] {
  return text.split(',').map(part => {
    if (!/^\d+$/.test(part.trim())) throw new InvalidArgumentError(`--vol "${text}" must be LDEV numbers separated by commas`);
    return Number(part.trim());
  });
}

export interface ServeFlags {
  listen?: string;
  socket?: string;
  vol?: string;
  insecure: boolean;
  readOnly: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  group?: number;
  mark?: number;
  rvol?: number;
}

/** The options the flags ask for: TCP on the default address unless only --socket was given; TLS with all three files or none. */
export function serveOptions(flags: ServeFlags): ServeOptions {
  const listen = flags.listen ?? (flags.socket === undefined ? DEFAULT_LISTEN : undefined);
  const tcp = listen === undefined ? undefined : parseListen(listen);
  if (flags.socket === '') throw new InvalidArgumentError('--socket needs a path');
  const given = [['--tls-cert', flags.tlsCert], ['--tls-key', flags.tlsKey], ['--tls-ca', flags.tlsCa]] as const;
  const missing = given.filter(([, value]) => value === undefined).map(([name]) => name);
  if (missing.length > 0 && missing.length < given.length) {
    throw new TlsFlagsError(`TLS needs --tls-cert, --tls-key and --tls-ca together; ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} missing`,
      'the server proves itself with the certificate and key, and accepts only clients whose certificates the CA signed');
  }
  const tls = missing.length === 0 ? {cert: flags.tlsCert!, key: flags.tlsKey!, ca: flags.tlsCa!} : undefined;
  if (tls && flags.insecure) throw new InvalidArgumentError('--insecure serves in plain text and --tls-* require TLS: give one or the other');
  if ((flags.group === undefined) !== (flags.mark === undefined)) throw new InvalidArgumentError('a mark export needs both --group and --mark');
  if (flags.rvol !== undefined && flags.mark === undefined) throw new InvalidArgumentError('--rvol chooses an R-VOL of a mark export: give --group and --mark too');
  if (flags.mark !== undefined && flags.vol !== undefined) throw new InvalidArgumentError('--vol serves a primary\'s volumes, --mark a remote\'s mark: give one or the other');
  const mark = flags.mark === undefined ? undefined : {group: flags.group!, markId: flags.mark, rvol: flags.rvol};
  return {
    mark, tcp, socket: flags.socket, ldevs: flags.vol === undefined ? undefined : parseLdevList(flags.vol), insecure: flags.insecure, readOnly: flags.readOnly, tls,
  };
}

/** What an operator should hear before the first client comes. */
export function serveWarnings(options: ServeOptions): string[] {
  if (options.tcp && !options.tls && options.insecure && !isLoopback(options.tcp.host)) {
    return [`serving ${options.tcp.host} without TLS (--insecure): anyone who reaches it can read and write these volumes`];
  }
  return [];
}

export async function serveUntilSignal(site: Site, options: ServeOptions, ready: (server: NbdServer) => void): Promise<void> {
  await runUntilSignal(() => serveNbd(site, options), ready);
}
