// The wire rows' helper processes (the agent, the delaying proxy, the TLS sink): each
// prints one JSON line once it is ready and runs until SIGTERM. Kept here, not taken
// from test/helpers: the bench does not depend on the tests' code.
import {spawn, type ChildProcess} from 'node:child_process';
import path from 'node:path';
import {ROOT} from './params.js';

/** marklog's command line, as a user runs it. */
export const BIN = path.join(ROOT, 'bin', 'run.js');
/** A program of the bench's own, compiled: `lib/delay-proxy` → dist/bench/lib/delay-proxy.js. */
export const program = (name: string) => path.join(ROOT, 'dist', 'bench', `${name}.js`);

export interface Ready<T> {
  /** What it printed first, parsed. */
  ready: T;
  pid: number;
  stop(): Promise<void>;
}

const READY_MS = 20_000;
const STOP_MS = 10_000;

/** Starts `command`, resolves with its first stdout line as JSON; stop() sends SIGTERM and awaits the exit (SIGKILL after 10 s). */
export function startReady<T>(command: string[], what: string, env: NodeJS.ProcessEnv = {}): Promise<Ready<T>> {
  const child = spawn(command[0], command.slice(1), {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, ...env}});
  let out = '';
  let err = '';
  child.stderr!.on('data', chunk => {
    err = (err + chunk).slice(-4096);
  });
  const closed = new Promise<void>(resolve => child.once('close', () => resolve()));
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      kill(child);
      reject(new Error(`${what} ${why}: ${err.trim()}`));
    };
    const timer = setTimeout(() => fail(`printed no readiness line in ${READY_MS / 1000} s`), READY_MS);
    child.once('error', error => fail(`could not start (${error.message})`));
    child.once('exit', (code, signal) => fail(`exited ${code ?? signal} before it was ready`));
    child.stdout!.on('data', chunk => {
      out += chunk;
      const end = out.indexOf('\n');
      if (end < 0) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      let ready: T;
      try {
        ready = JSON.parse(out.slice(0, end)) as T;
      } catch {
        fail(`printed ${JSON.stringify(out.slice(0, end))}, not JSON`);
        return;
      }
      resolve({ready, pid: child.pid!, stop: () => stop(child, closed, what, () => err)});
    });
  });
}

function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
}

async function stop(child: ChildProcess, closed: Promise<void>, what: string, err: () => string): Promise<void> {
  kill(child, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const hung = await Promise.race([closed.then(() => false), new Promise<boolean>(resolve => (timer = setTimeout(() => resolve(true), STOP_MS)))]);
  clearTimeout(timer);
  if (hung) {
    kill(child);
    await closed;
    throw new Error(`${what} did not exit within ${STOP_MS / 1000} s of SIGTERM: ${err().trim()}`);
  }
  if (child.exitCode !== 0 && child.signalCode !== 'SIGTERM') throw new Error(`${what} exited ${child.exitCode ?? child.signalCode} on SIGTERM: ${err().trim()}`);
}

/** Runs every step of a cleanup, in order, even after one fails; then throws the first failure. */
export async function eachStep(steps: (() => void | Promise<void>)[]): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0) throw failures[0];
}
