// The life of `marklog serve`: listen, say so on one line, serve until SIGINT or
// SIGTERM, then let the connections finish, make every write durable and return.
import {InvalidArgumentError} from '../errors.js';
import type {Site} from '../site/site.js';
import {serveNbd, type NbdServer, type ServeOptions} from './nbd-server.js';

/** `host:port` or `[v6]:port`; port 0 takes any free one. */
export function parseListen(text: string): {host: string; port: number} {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new InvalidArgumentError(`listen address "${text}" must be HOST:PORT (for example 127.0.0.1:10809)`);
  return {host: match[1] ?? match[2], port};
}

/** `--vol 0,2`: LDEV numbers separated by commas. */
export function parseLdevList(text: string): number[] {
  return text.split(',').map(part => {
    if (!/^\d+$/.test(part.trim())) throw new InvalidArgumentError(`--vol "${text}" must be LDEV numbers separated by commas`);
    return Number(part.trim());
  });
}

export async function serveUntilSignal(site: Site, options: ServeOptions, ready: (server: NbdServer) => void): Promise<void> {
  const server = await serveNbd(site, options);
  ready(server);
  await new Promise<void>(resolve => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
}
