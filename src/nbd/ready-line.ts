// The one line `marklog serve` prints once it listens (docs/NBD.md §1): for people,
// or as one JSON object for scripts, with the URIs clients take.
import {formatBytes} from '../util/units.js';
import type {NbdServer} from './nbd-server.js';

/** nbd://host:port, or nbds:// when TLS is required. */
export function tcpUrl(server: NbdServer): string | undefined {
  if (!server.address) return undefined;
  const {host, port} = server.address;
  return `${server.tls ? 'nbds' : 'nbd'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The URI of one export on the Unix socket (libnbd's form; qemu takes nbd:unix:PATH:exportname=NAME). */
export function socketUrl(server: NbdServer, name = ''): string | undefined {
  if (!server.socket) return undefined;
  return `${server.tls ? 'nbds+unix' : 'nbd+unix'}:///${encodeURIComponent(name)}?socket=${encodeURI(server.socket)}`;
}

export function readyJson(server: NbdServer, warnings: string[]): object {
  return {
    ...(server.address ? {listening: {...server.address, url: tcpUrl(server)}} : {}),
    ...(server.socket ? {socket: {path: server.socket, url: socketUrl(server)}} : {}),
    tls: server.tls, readOnly: server.readOnly,
    exports: server.exports.map(e => ({ldev: e.ldev, names: e.names, capacity: e.capacity})),
    warnings,
  };
}

export function readyText(server: NbdServer): string {
  const base = tcpUrl(server);
  const where = (ldev: number) => [base && `${base}/${ldev}`, socketUrl(server, String(ldev))].filter(Boolean).join(' and ');
  const how = [server.tls && 'TLS required', server.readOnly && 'read-only'].filter(Boolean);
  return `serving ${server.exports.map(e => `LDEV ${e.ldev} (${formatBytes(e.capacity)}) as ${where(e.ldev)}`).join(', ')}${how.length ? ` (${how.join(', ')})` : ''}`;
}
