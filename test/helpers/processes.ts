// Child processes for the tests that race, kill or hold things: waiting for an exit,
// polling, and running the small helper programs that sit next to this file.
import {spawn, type ChildProcess} from 'node:child_process';
import {fileURLToPath} from 'node:url';

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

/** Resolves with the first line the child prints on stdout (e.g. "held"). */
export function firstLine(child: ChildProcess, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no line from child within ${timeoutMs} ms; got ${JSON.stringify(seen)}`)), timeoutMs);
    child.stdout?.on('data', chunk => {
      seen += chunk;
      const end = seen.indexOf('\n');
      if (end >= 0) {
        clearTimeout(timer);
        resolve(seen.slice(0, end));
      }
    });
    child.on('close', code => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code}) before printing a line; got ${JSON.stringify(seen)}`));
    });
  });
}

/** Kills a child that is still running; for t.teardown. */
export function killIfRunning(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
