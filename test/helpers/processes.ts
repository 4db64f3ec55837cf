// Child processes for the tests that race, kill or hold things: waiting for an exit
// or a line, and running the small helper programs that sit next to this file.
import {spawn, type ChildProcess} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import {WAIT_BOUND_MS, linesFrom} from './wait.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Resolves when the child has exited, with everything it printed. */
export function exited(child: ChildProcess): Promise<Exit> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', chunk => {
    stdout += chunk;
  });
  child.stderr?.on('data', chunk => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({code, signal, stdout, stderr}));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

/** Starts one of the helper programs in dist/test/helpers (e.g. 'host-writer') with node. */
export function helperProgram(name: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const file = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  return spawn(process.execPath, [file, ...args], {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']});
}

/**
 * Resolves with the first line the child prints on stdout (e.g. "held"); waits on
 * the line itself, up to a generous bound, and says so when the child ends first.
 */
export async function firstLine(child: ChildProcess, timeoutMs = WAIT_BOUND_MS, what = 'the first line of a child process'): Promise<string> {
  const [line] = await linesFrom(child, 1, what, timeoutMs);
  return line;
}

/** Kills a child that is still running; for t.teardown. */
export function killIfRunning(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
