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
  /** nbd://127.0.0.1:PORT (an export is `${url}/${ldev}`). */
  url: string;
  port: number;
  ready: {exports: {ldev: number; names: string[]; capacity: number}[]};
  done: Promise<Exit>;
}

/** Starts `marklog serve --json` on any free loopback port; it is SIGKILLed at teardown if still running. */
export async function serve(t: ExecutionContext, site: string, extra: string[] = []): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--site', site, '--listen', '127.0.0.1:0', '--json', ...extra], {stdio: ['ignore', 'pipe', 'pipe']});
  const done = exited(child);
  let out = '';
  child.stdout!.on('data', chunk => {
    out += chunk;
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await waitFor(() => out.includes('\n') || child.exitCode !== null, {what: 'marklog serve to print its readiness line', seen: () => out});
  if (!out.includes('\n')) throw new Error(`marklog serve ended before it listened: ${(await done).stderr}`);
  const ready = JSON.parse(out.split('\n')[0]);
  return {child, url: ready.listening.url, port: ready.listening.port, ready, done};
}

/** Runs a tool to the end; throws with its output unless it exits 0. */
export function run(command: string, args: string[], input?: string | Buffer): string {
  const result = spawnSync(command, args, {encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024});
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status ?? result.signal}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}
