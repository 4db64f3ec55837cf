// A heartbeat path (patent Fig. 22: the main and alternate paths between the
// production and recovery hosts): a TCP endpoint "host:port", or a file on
// shared storage that the production side rewrites every interval.
import fs from 'node:fs';
import net from 'node:net';
import {InvalidArgumentError} from '../errors.js';

export type HeartbeatPath = {kind: 'tcp'; host: string; port: number; text: string} | {kind: 'file'; path: string; text: string};

export function parseHeartbeatPath(text: string): HeartbeatPath {
  const tcp = /^(?:tcp:\/\/)?(\[[^\]]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  if (tcp && !text.startsWith('/') && !text.startsWith('.')) {
    const port = Number(tcp[2]);
    if (port > 65535) throw new InvalidArgumentError(`heartbeat path "${text}": port must be 0-65535 (0: any free port, for serve)`);
    return {kind: 'tcp', host: tcp[1].replace(/^\[|\]$/g, ''), port, text};
  }
  const file = text.startsWith('file:') ? text.slice(5) : text;
  if (!file.startsWith('/') && !file.startsWith('.')) {
    throw new InvalidArgumentError(`heartbeat path "${text}" is neither host:port nor a file path (absolute, or starting with ./)`);
  }
  return {kind: 'file', path: file, text};
}

export const PING = 'MARKLOG-PING';
export const PONG = 'MARKLOG-PONG';

/** One heartbeat over a path: true when the production side answered within the timeout. */
export function probe(path: HeartbeatPath, timeoutMs: number, freshMs: number): Promise<boolean> {
  if (path.kind === 'file') return Promise.resolve(fileIsFresh(path.path, freshMs));
  return new Promise(resolve => {
    let answer = '';
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(ok);
    };
    const socket = net.connect({host: path.host, port: path.port});
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('connect', () => socket.write(`${PING}\n`));
    socket.on('data', chunk => {
      answer += chunk.toString('utf8');
      if (answer.includes('\n')) done(answer.startsWith(PONG));
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}

function fileIsFresh(file: string, freshMs: number): boolean {
  try {
    const text = fs.readFileSync(file, 'utf8');
    const match = new RegExp(`^${PONG} (\\d+)`).exec(text);
    return match !== null && Date.now() - Number(match[1]) <= freshMs;
  } catch {
    return false;
  }
}
