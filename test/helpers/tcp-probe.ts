// TCP across the link between two namespaces, driven from the tests' process through
// two small programs: an echo server at one end (tcp-echo.ts) and a client at the
// other (tcp-pipe.ts) whose pipes are the connection. A test sends bytes, waits for
// their echo, times round trips and bulk transfers, and reads how the connect or the
// connection ended; and it reads a namespace's TCP retransmission counter.
import {createHash} from 'node:crypto';
import type {ChildProcessWithoutNullStreams} from 'node:child_process';
import {performance} from 'node:perf_hooks';
import {firstLine} from './processes.js';
import {waitFor} from './wait.js';
import {helperPath, type WrappedCommands} from './wrapped-commands.js';

/** Starts the echo server there on HOST (a free port); resolves with its port. */
export async function echoServer(where: WrappedCommands, host: string): Promise<number> {
  const child = where.spawn([process.execPath, helperPath('tcp-echo'), host, '0']);
  return (JSON.parse(await firstLine(child, 20_000, 'the echo server to listen')) as {port: number}).port;
}

export interface TcpPipe {
  child: ChildProcessWithoutNullStreams;
  /** "connected", or the code the connect failed with (ECONNREFUSED, ETIMEDOUT). */
  connected: Promise<string>;
  /** The lines the client printed on standard error so far ("connected", "tcp-pipe: ECONNRESET"). */
  status(): string[];
  /** Every byte received so far. */
  received(): Buffer;
  send(bytes: Uint8Array): void;
  /** Resolves true once `total` bytes in all have arrived, false if they did not within `timeoutMs`. */
  receivedBy(total: number, timeoutMs: number): Promise<boolean>;
  /** Sends `bytes` and waits for as many to come back; the time it took and what came. */
  roundTrip(bytes: Uint8Array, timeoutMs?: number): Promise<{ms: number; echoed: Buffer}>;
}

/** A client there connected to HOST PORT; the connect is given `connectTimeoutMs`. */
export function tcpPipe(where: WrappedCommands, host: string, port: number, connectTimeoutMs = 20_000): TcpPipe {
  const child = where.spawn([process.execPath, helperPath('tcp-pipe'), host, String(port), String(connectTimeoutMs)]);
  child.stdin.on('error', () => {});
  const chunks: Buffer[] = [];
  let length = 0;
  let errors = '';
  child.stdout.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    length += chunk.length;
  });
  child.stderr.on('data', chunk => (errors += chunk));
  const status = () => errors.split('\n').filter(Boolean);
  const received = () => Buffer.concat(chunks);
  const receivedBy = async (total: number, timeoutMs: number) => {
    try {
      await waitFor(() => length >= total || child.exitCode !== null, {what: `${total} bytes`, timeoutMs, everyMs: 2});
    } catch {
      return false;
    }
    return length >= total;
  };
  const connected = waitFor(() => status()[0] ?? (child.exitCode !== null ? `exited ${child.exitCode}` : undefined), {what: 'tcp-pipe to connect or fail', everyMs: 5})
    .then(line => line.replace(/^tcp-pipe: /, ''));
  return {
    child, connected, status, received, receivedBy,
    send: bytes => child.stdin.write(bytes),
    async roundTrip(bytes, timeoutMs = 30_000) {
      const before = length;
      const started = performance.now();
      child.stdin.write(bytes);
      if (!(await receivedBy(before + bytes.length, timeoutMs))) throw new Error(`no echo of ${bytes.length} bytes within ${timeoutMs} ms; status ${status().join(' / ')}`);
      return {ms: performance.now() - started, echoed: received().subarray(before, before + bytes.length)};
    },
  };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The namespace's TCP segments retransmitted so far (/proc/net/snmp is the reader's namespace's). */
export function retransmittedSegments(where: WrappedCommands): number {
  const lines = where.run(['cat', '/proc/net/snmp']).stdout.split('\n').filter(line => line.startsWith('Tcp:'));
  const [names, values] = lines.map(line => line.split(/\s+/));
  return Number(values[names.indexOf('RetransSegs')]);
}
