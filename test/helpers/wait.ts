// Waiting in tests on the event itself, never for a fixed time: on a slow or busy
// machine a wait takes longer, it does not fail. Every wait has a generous bound,
// below ava's own timeout, and when the bound is hit the error says what was awaited
// and what was seen instead.
import type {ChildProcess} from 'node:child_process';

/** Long enough for any event of the suite on a loaded 2-core machine; ava's timeout (3 min) is the real limit. */
export const WAIT_BOUND_MS = 120_000;

export interface WaitOptions {
  /** What is awaited, for the error: "the pair to enter COPY". */
  what: string;
  timeoutMs?: number;
  /** Pause between two checks. */
  everyMs?: number;
  /** Extra text for the error: what the last check saw. */
  seen?: () => string;
}

const pause = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** Resolves with the first truthy value `check` returns; checks every `everyMs` until the bound. */
export async function waitFor<T>(check: () => T | undefined | null | false | Promise<T | undefined | null | false>, options: WaitOptions): Promise<T> {
  const bound = options.timeoutMs ?? WAIT_BOUND_MS;
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - started > bound) throw new Error(`gave up waiting for ${options.what} after ${bound} ms${options.seen ? `; saw ${options.seen()}` : ''}`);
    await pause(options.everyMs ?? 10);
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** waitFor for helper programs that run synchronously (no event loop to yield to). */
export function waitForSync<T>(check: () => T | undefined | null | false, options: WaitOptions): T {
  const bound = options.timeoutMs ?? WAIT_BOUND_MS;
  const started = Date.now();
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() - started > bound) throw new Error(`gave up waiting for ${options.what} after ${bound} ms${options.seen ? `; saw ${options.seen()}` : ''}`);
    Atomics.wait(sleeper, 0, 0, options.everyMs ?? 2);
  }
}

/**
 * The first `count` lines a running child prints on stdout. Rejects when the child
 * exits before printing them (with its stderr) or at the bound (with what it printed).
 */
export function linesFrom(child: ChildProcess, count: number, what: string, timeoutMs = WAIT_BOUND_MS): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let text = '';
    let errors = '';
    const lines = () => text.split('\n').slice(0, -1);
    const done = (error?: Error) => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onError);
      child.off('close', onClose);
      if (error) reject(error);
      else resolve(lines().slice(0, count));
    };
    const onData = (chunk: Buffer | string) => {
      text += chunk;
      if (lines().length >= count) done();
    };
    const onError = (chunk: Buffer | string) => {
      errors += chunk;
    };
    const onClose = (code: number | null, signal: string | null) => {
      done(new Error(`${what}: the process ended (${code ?? signal}) after ${lines().length} of ${count} lines; stdout ${JSON.stringify(text)}, stderr ${JSON.stringify(errors)}`));
    };
    const timer = setTimeout(() => done(new Error(`gave up waiting for ${what} after ${timeoutMs} ms: ${lines().length} of ${count} lines; stdout ${JSON.stringify(text)}`)), timeoutMs);
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onError);
    child.on('close', onClose);
  });
}
