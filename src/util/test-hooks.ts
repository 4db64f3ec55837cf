// Named points inside multi-step changes (takeover, failback, restore) where a
// test can kill the command or hold it still, so a crash or a race lands on the
// exact step it is about instead of on a lucky timing. Inert unless a test sets
// the variables below; they are not an interface for users.
//
//   MARKLOG_TEST_CRASH_AT=<point>   SIGKILL this process on reaching <point>
//   MARKLOG_TEST_PAUSE_AT=<point>   on first reaching <point>, create the file named
//   MARKLOG_TEST_PAUSE_FILE=<file>  by <file> and wait until the test removes it
//   MARKLOG_TEST_FIRST_BATCH=<n>    the write pipeline's first batch waits until <n>
//                                   requests are queued, so it is exactly those <n>
//                                   (a test that sets it sends at least <n>)
import fs from 'node:fs';

export type HookPoint =
  | 'takeover:intent-saved'
  | 'takeover:applied'
  | 'takeover:log-formatted'
  | 'failback:ranges-read'
  | 'failback:ranges-persisted'
  | 'failback:before-direction'
  | 'failback:direction-set'
  | 'restore:before-build'
  | 'restore:staged'
  | 'restore:renamed-one'
  | 'receive:before-copy'
  | 'copy:runs-sent';

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** A pause never outlives a test that forgot it. */
const PAUSE_LIMIT_MS = 120_000;
let paused = false;

export function hookPoint(point: HookPoint): void {
  const env = process.env;
  if (env.MARKLOG_TEST_PAUSE_AT === point && env.MARKLOG_TEST_PAUSE_FILE && !paused) {
    paused = true;
    const file = env.MARKLOG_TEST_PAUSE_FILE;
    fs.writeFileSync(file, `${process.pid}\n`);
    const until = Date.now() + PAUSE_LIMIT_MS;
    while (fs.existsSync(file) && Date.now() < until) Atomics.wait(sleeper, 0, 0, 10);
  }
  if (env.MARKLOG_TEST_CRASH_AT === point) process.kill(process.pid, 'SIGKILL');
}

/** Requests the write pipeline's first batch waits for: 1 unless a test sets MARKLOG_TEST_FIRST_BATCH. */
export function firstBatchSize(): number {
  const n = Number(process.env.MARKLOG_TEST_FIRST_BATCH);
  return Number.isSafeInteger(n) && n > 1 ? n : 1;
}
