// Runs the real CLI stopped at one of the named points of src/util/test-hooks.ts:
// killed there (a crash at an exact step), or held there while the test does
// something else (a race that is certain to happen, not likely to).
import fs from 'node:fs';
import type {ExecutionContext} from 'ava';
import path from 'node:path';
import {cli, cliSpawn, type CliResult} from './cli.js';
import {exited, sleep, type Exit} from './processes.js';

/** Runs a command that must die at `point`; fails the test's setup if it got past it. */
export function killedAt(point: string, args: string[]): void {
  const result: CliResult = cli(args, {env: {MARKLOG_TEST_CRASH_AT: point}});
  if (result.code !== -1) throw new Error(`marklog ${args.join(' ')} was to be killed at ${point} but exited ${result.code}: ${result.stderr}${result.stdout}`);
}

/** Waits for a file to appear, polling, with a generous bound and a message naming it. */
export async function fileAppears(file: string, what: string, boundMs = 30_000, givenUp = () => false): Promise<void> {
  const until = Date.now() + boundMs;
  while (!fs.existsSync(file) && !givenUp()) {
    if (Date.now() > until) throw new Error(`${what} did not happen within ${boundMs} ms (no ${path.basename(file)})`);
    await sleep(10);
  }
}

/**
 * Starts a command that holds still at `point`, runs `meanwhile` once it is there,
 * lets it go on, and returns how it ended. `env` may add a crash point further on.
 */
export async function pausedAt(point: string, args: string[], scratch: string, meanwhile: () => void | Promise<void>, env: NodeJS.ProcessEnv = {}): Promise<Exit> {
  const pauseFile = path.join(scratch, `paused-${point.replace(/\W/g, '-')}`);
  const child = cliSpawn(args, {MARKLOG_LINK_RETRIES: '1', MARKLOG_TEST_PAUSE_AT: point, MARKLOG_TEST_PAUSE_FILE: pauseFile, ...env});
  const done = exited(child);
  let reached = false;
  let ended = false;
  let failed: unknown;
  try {
    const early = done.then(exit => {
      ended = true;
      if (!reached) throw new Error(`marklog ${args.join(' ')} ended (${exit.code ?? exit.signal}) before reaching ${point}: ${exit.stderr}`);
    });
    early.catch(() => {});
    await Promise.race([fileAppears(pauseFile, `marklog ${args[0]} reaching ${point}`, 30_000, () => ended), early]);
    reached = true;
    await meanwhile();
  } catch (error) {
    failed = error;
  } finally {
    fs.rmSync(pauseFile, {force: true});
  }
  const exit = await done;
  if (failed) throw failed;
  return exit;
}

/**
 * Saves the site directories as they are now; the returned function puts them
 * back, so one setup serves a test that crashes a command at several points.
 */
export function savedState(root: string, dirs: string[]): () => void {
  const saved = fs.mkdtempSync(path.join(root, 'saved-'));
  for (const dir of dirs) fs.cpSync(dir, path.join(saved, path.basename(dir)), {recursive: true});
  return () => {
    for (const dir of dirs) {
      fs.rmSync(dir, {recursive: true, force: true});
      fs.cpSync(path.join(saved, path.basename(dir)), dir, {recursive: true});
    }
  };
}

/**
 * One setup shared by the serial tests of a file, each of which starts from it
 * again: the crash tests need the same few-commands-long history many times,
 * and building it once keeps them cheap. Removed when the file's tests end.
 */
export function sharedSetup<T extends {root: string; primary: string; remote: string}>(test: {after: {always: (fn: () => void) => void}}, build: (t: ExecutionContext) => T): () => T {
  const cleanups: (() => void)[] = [];
  // The setup helpers want a test context only to register their cleanup.
  const context = {teardown: (fn: () => void) => cleanups.push(fn)} as unknown as ExecutionContext;
  let built: {world: T; rewind: () => void} | undefined;
  test.after.always(() => {
    for (const cleanup of cleanups.reverse()) cleanup();
  });
  return () => {
    if (!built) {
      const world = build(context);
      built = {world, rewind: savedState(world.root, [world.primary, world.remote])};
    } else {
      built.rewind();
    }
    return built.world;
  };
}
