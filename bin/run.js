#!/usr/bin/env node
// `mark` runs from cron every few minutes: a plain invocation skips loading oclif.
const [command, ...rest] = process.argv.slice(2);
const fast = command === 'mark' && !process.env.MARKLOG_NO_FAST_PATH
  && (await import('../dist/src/cli/fast-mark.js')).tryFastMark(rest);
if (!fast) {
  const {execute} = await import('@oclif/core');
  await execute({dir: import.meta.url});
}
