// `marklog serve` as a real process, the one way the NBD tests, the soak and the bench
// start it: on a site (a free loopback port unless told otherwise), waiting for its
// readiness line; ended by SIGTERM (stopServe) or SIGKILL (the crash tests, and any
// test's teardown). And client tools run to the end, failing with what they printed.
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import type {ExecutionContext} from 'ava';
import {BIN} from './cli.js';
import {exited, killIfRunning, type Exit} from './processes.js';
import {waitFor} from './wait.js';

export interface ServedExport {
  ldev: number;
  names: string[];
  capacity: number;
}

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
    exports: ServedExport[];
    warnings: string[];
  };
  /** The exports its readiness line lists. */
  exports: ServedExport[];
  /** What it printed on standard error so far. */
  stderr: () => string;
  done: Promise<Exit>;
}

export interface LaunchOptions {
  /** --listen's value; null gives none (a socket-only server). Default: any free loopback port. */
  listen?: string | null;
  /** A command to run it under, e.g. ['ip', 'netns', 'exec', NAME]. */
  wrap?: string[];
  /** Arguments of node before the program (`--cpu-prof`, say). */
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
}

/** Starts `marklog serve --json` and resolves once it listens; the caller ends it. */
export async function launchServe(site: string, extra: string[] = [], options: LaunchOptions = {}): Promise<Served> {
  const listen = options.listen === undefined ? ['--listen', '127.0.0.1:0'] : options.listen === null ? [] : ['--listen', options.listen];
  const line = [...(options.wrap ?? []), process.execPath, ...(options.nodeArgs ?? []), BIN, 'serve', '--site', site, ...listen, '--json', ...extra];
  const child = spawn(line[0], line.slice(1), {stdio: ['ignore', 'pipe', 'pipe'], env: options.env ? {...process.env, ...options.env} : process.env});
  const done = exited(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', chunk => {
    out += chunk;
  });
  child.stderr!.on('data', chunk => {
    err += chunk;
  });
  try {
    await waitFor(() => out.includes('\n') || child.exitCode !== null, {what: 'marklog serve to print its readiness line', seen: () => out});
  } catch (error) {
    killIfRunning(child);
    throw error;
  }
  if (!out.includes('\n')) throw new Error(`marklog serve ended before it listened: ${(await done).stderr}`);
  const ready = JSON.parse(out.split('\n')[0]);
  return {child, url: ready.listening?.url ?? '', port: ready.listening?.port ?? 0, ready, exports: ready.exports, stderr: () => err, done};
}

/** launchServe for a test: SIGKILLed at teardown if still running. */
export async function serve(t: ExecutionContext, site: string, extra: string[] = [], options: LaunchOptions = {}): Promise<Served> {
  const served = await launchServe(site, extra, options);
  t.teardown(() => killIfRunning(served.child));
  return served;
}

/** SIGTERM, then how it ended; a server still running after `ms` is killed and reported as 'hung'. */
export async function stopServe(served: Served, ms = 30_000): Promise<Exit | 'hung'> {
  served.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>(resolve => {
    timer = setTimeout(() => resolve('hung'), ms);
  });
  const result = await Promise.race([served.done, hung]);
  clearTimeout(timer);
  if (result === 'hung') served.child.kill('SIGKILL');
  return result;
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
