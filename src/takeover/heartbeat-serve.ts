// The production side of the heartbeat: answers on TCP paths, and rewrites a
// heartbeat file each interval for watchers on shared storage.
import fs from 'node:fs';
import net from 'node:net';
import {writeFileAtomic} from '../util/atomic-file.js';
import {PING, PONG, type HeartbeatPath} from './heartbeat-path.js';

export interface ServeOptions {
  paths: HeartbeatPath[];
  intervalMs: number;
  name: string;
}

export interface HeartbeatServer {
  /** The addresses actually listened on (a port of 0 becomes the one the kernel chose). */
  listening: string[];
  close(): Promise<void>;
}

export async function serveHeartbeat(options: ServeOptions): Promise<HeartbeatServer> {
  const servers: net.Server[] = [];
  const listening: string[] = [];
  const timers: NodeJS.Timeout[] = [];
  for (const path of options.paths) {
    if (path.kind === 'tcp') {
      const server = net.createServer(socket => {
        socket.setTimeout(5000, () => socket.destroy());
        socket.on('error', () => socket.destroy());
        let request = '';
        socket.on('data', chunk => {
          request += chunk.toString('utf8');
          if (request.length > 256) socket.destroy();
          else if (request.includes('\n')) socket.end(request.startsWith(PING) ? `${PONG} ${Date.now()} ${options.name}\n` : 'ERR\n');
        });
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path.port, path.host, () => resolve());
      });
      const address = server.address() as net.AddressInfo;
      listening.push(`${path.host}:${address.port}`);
      servers.push(server);
    } else {
      const beat = () => writeFileAtomic(path.path, `${PONG} ${Date.now()} ${options.name}\n`);
      beat();
      timers.push(setInterval(beat, options.intervalMs));
      listening.push(path.path);
    }
  }
  return {
    listening,
    async close() {
      for (const timer of timers) clearInterval(timer);
      for (const path of options.paths) if (path.kind === 'file') fs.rmSync(path.path, {force: true});
      await Promise.all(servers.map(server => new Promise<void>(resolve => server.close(() => resolve()))));
    },
  };
}
