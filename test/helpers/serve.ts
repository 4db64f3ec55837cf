// `marklog serve` as a real process for the NBD tests, and the real clients they drive:
// start it on a site, wait for its readiness line, and end it (SIGTERM, or SIGKILL
// for the crash tests); run a client tool and fail with what it printed.
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import type {ExecutionContext} from 'ava';
import {BIN} from './cli.js';
import {exited, type Exit} from './processes.js';
import {waitFor} from './wait.js';

export interface Served {
  child: ChildProcess;
  /** nbd://127.0.0.1:PORT, or nbds:// with TLS (an export is `${url}/${ldev}`); empty when it listens on a socket only. */
  url: string;
  port: number;
  ready: {
    listening?: {host: string; port: number; url: string};
    socket?: {path: string; url: string};
    tls: boolean;
    readOnly: boolean;
    exports: {ldev: number; names: string[]; capacity: number}[];
    warnings: string[];
  };
  /** What it printed on standard error so far. */
  stderr: () => string;
  done: Promise<Exit>;
}

export interface ServeStart {
  /** --listen's value; null gives none (a socket-only server). Default: any free loopback port. */
  listen?: string | null;
  /** A command to run it under, e.g. ['ip', 'netns', 'exec', NAME]. */
  wrap?: string[];
}

/** Starts `marklog serve --json` (on any free loopback port unless told otherwise); it is SIGKILLed at teardown if still running. */
export async function serve(t: ExecutionContext, site: string, extra: string[] = [], start: ServeStart = {}): Promise<Served> {
  const listen = start.listen === undefined ? ['--listen', '127.0.0.1:0'] : start.listen === null ? [] : ['--listen', start.listen];
  const line = [...(start.wrap ?? []), process.execPath, BIN, 'serve', '--site', site, ...listen, '--json', ...extra];
  const child = spawn(line[0], line.slice(1), {stdio: ['ignore', 'pipe', 'pipe']});
  const done = exited(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', chunk => {
    out += chunk;
  });
  child.stderr!.on('data', chunk => {
    err += chunk;
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await waitFor(() => out.includes('\n') || child.exitCode !== null, {what: 'marklog serve to print its readiness line', seen: () => out});
  if (!out.includes('\n')) throw new Error(`marklog serve ended before it listened: ${(await done).stderr}`);
  const ready = JSON.parse(out.split('\n')[0]);
  return {child, url: ready.listening?.url ?? '', port: ready.listening?.port ?? 0, ready, stderr: () => err, done};
}

/** Runs a tool to the end; throws with its output unless it exits 0. */
export function run(command: string, args: string[], input?: string | Buffer): string {
  const result = spawnSync(command, args, {encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024});
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status ?? result.signal}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** Runs a tool that may be refused: how it ended and what it printed (stderr, then stdout); 60 s at most. */
export function attempt(command: string, args: string[]): {status: number | null; output: string} {
  const result = spawnSync(command, args, {encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024});
  return {status: result.status, output: `${result.stderr}${result.stdout}`};
}
