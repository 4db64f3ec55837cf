// Where `marklog serve` listens: a TCP address (loopback unless TLS or --insecure
// says otherwise) and a Unix socket, owner-only, whose stale file from a killed
// server is taken over and whose live or foreign file is left alone.
import fs from 'node:fs/promises';
import net from 'node:net';
import {dirname} from 'node:path';
import {InvalidArgumentError, NotASocketError, SocketInUseError} from '../errors.js';

/** Loopback by its literal form: `localhost`, 127.0.0.0/8 and ::1. A host name that merely starts with "127." is not. */
export function isLoopback(host: string): boolean {
  const plain = host.startsWith('::ffff:') ? host.slice('::ffff:'.length) : host;
  return plain === 'localhost' || plain === '::1' || (net.isIPv4(plain) && plain.startsWith('127.'));
}

export async function listenTcp(server: net.Server, host: string, port: number): Promise<{host: string; port: number}> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;
  return {host: address.address, port: address.port};
}

/** Whether something answers on the socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise(resolve => {
    const probe = net.connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/**
 * Whether `path` can take a new socket: 'free' (nothing there) or 'stale' (a socket nobody
 * answers on: a server that was killed). Anything else is refused; nothing is removed here.
 */
export async function checkSocketPath(path: string): Promise<'free' | 'stale'> {
  const stat = await fs.lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!stat) {
    // The kernel would say EACCES for a directory that is not there, which sends one looking for the wrong cause.
    const parent = await fs.stat(dirname(path)).catch(() => undefined);
    if (!parent?.isDirectory()) throw new InvalidArgumentError(`--socket ${JSON.stringify(path)}: its directory ${JSON.stringify(dirname(path))} does not exist`);
    return 'free';
  }
  if (!stat.isSocket()) throw new NotASocketError(`--socket ${JSON.stringify(path)} exists and is not a socket; it is left as it is`, 'choose another path');
  if (await answers(path)) throw new SocketInUseError(`--socket ${JSON.stringify(path)}: another server is listening there`, 'stop it, or choose another path');
  return 'stale';
}

/** Listens on a Unix socket that only its owner (and root) may connect to, whatever the umask; a stale socket there is replaced. */
export async function listenUnix(server: net.Server, path: string, state: 'free' | 'stale'): Promise<void> {
  if (state === 'stale') await fs.unlink(path);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // The bind happens inside listen(), so the file is born with this mode: there is no moment it is open to others.
    const umask = process.umask(0o177);
    try {
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(umask);
    }
  });
}
