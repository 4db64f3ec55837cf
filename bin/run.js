#!/usr/bin/env node
// no-color.org: NO_COLOR set and not empty turns colour off, whatever else says; chalk
// reads FORCE_COLOR when it loads, so this goes before anything is imported.
if (process.env.NO_COLOR) process.env.FORCE_COLOR = '0';
// `mark` runs from cron every few minutes: a plain invocation skips loading oclif.
const [command, ...rest] = process.argv.slice(2);
const fast = command === 'mark' && !process.env.MARKLOG_NO_FAST_PATH
  && (await import('../dist/src/cli/fast-mark.js')).tryFastMark(rest);
if (!fast) {
  const {execute} = await import('@oclif/core');
  await execute({dir: import.meta.url});
}
