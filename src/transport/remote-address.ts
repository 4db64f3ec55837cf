// Where a primary reaches its remote (`marklog site link --remote`): a directory on
// this machine (the local transport), `ssh://[user@]host[:port]/path` (the agent
// started over SSH on its standard input and output), or `tls://host:port` (an agent
// listening with --listen). Parsed here, once, for the transport choice.
import {InvalidArgumentError} from '../errors.js';

export type RemoteAddress =
  | {kind: 'directory'; dir: string}
  | {kind: 'ssh'; user: string | undefined; host: string; port: number | undefined; path: string}
  | {kind: 'tls'; host: string; port: number};

const EXAMPLES = 'a directory, ssh://[user@]host[:port]/path or tls://host:port';

function portOf(text: string, address: string): number | undefined {
  if (text === '') return undefined;
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port < 1 || port > 65535) throw new InvalidArgumentError(`remote "${address}": port ${text} is not a TCP port (1-65535)`);
  return port;
}

/** A host as URLs write it: [v6] loses its brackets. */
function hostOf(url: URL, address: string): string {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new InvalidArgumentError(`remote "${address}" names no host`, `write ${EXAMPLES}`);
  return host;
}

export function parseRemoteAddress(address: string): RemoteAddress {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(address)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (address.trim() === '') throw new InvalidArgumentError('the remote address is empty', `write ${EXAMPLES}`);
    return {kind: 'directory', dir: address};
  }
  // Checked before the URL parser, which would call a port past 65535 "not a URL".
  const portText = /:(\d+)$/.exec(address.slice(scheme.length + 3).split('/')[0])?.[1];
  if (portText !== undefined) portOf(portText, address);
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new InvalidArgumentError(`remote "${address}" is not a URL`, `write ${EXAMPLES}`);
  }
  if (url.search !== '' || url.hash !== '') throw new InvalidArgumentError(`remote "${address}" has a query or fragment, which marklog does not use`);
  if (scheme === 'ssh') {
    const path = decodeURIComponent(url.pathname);
    if (path === '' || path === '/') throw new InvalidArgumentError(`remote "${address}" names no site directory`, 'write ssh://[user@]host[:port]/path/to/site');
    if (url.password !== '') throw new InvalidArgumentError(`remote "${address}" carries a password`, 'use an SSH key; marklog never sends passwords');
    return {kind: 'ssh', user: url.username === '' ? undefined : decodeURIComponent(url.username), host: hostOf(url, address), port: portOf(url.port, address), path};
  }
  if (scheme === 'tls') {
    if (url.username !== '' || url.password !== '') throw new InvalidArgumentError(`remote "${address}": a tls:// address has no user`, 'the client certificate (--tls-cert) says who connects');
    if (url.pathname !== '' && url.pathname !== '/') throw new InvalidArgumentError(`remote "${address}": a tls:// address has no path`, 'the agent is started with its site (marklog agent --site DIR --listen …)');
    const port = portOf(url.port, address);
    if (port === undefined) throw new InvalidArgumentError(`remote "${address}" names no port`, 'write tls://host:port, the port the agent listens on');
    return {kind: 'tls', host: hostOf(url, address), port};
  }
  throw new InvalidArgumentError(`remote "${address}": marklog does not know the scheme ${scheme}://`, `write ${EXAMPLES}`);
}
