// Row 13: start-up of three representative commands, process start to exit,
// against `node -e 0` (issue 12, item 17): `mark` (cron), `pair display` (a table
// on a terminal) and `restore --dry-run` (a recovery plan). Each repetition runs
// the three back to back with the baseline; the row's figure is the slowest.
import {issueMark} from '../../src/mark/mark.js';
import {closeSites, loggingFixture} from '../lib/fixtures.js';
import {now, runPaired, since} from '../lib/measure.js';
import {MiB} from '../lib/params.js';
import {makeRow, series, type RowResult} from '../lib/result.js';
import type {Context} from '../lib/context.js';
import {BIN, spawnTimed} from './mark.js';

export async function cliStart(ctx: Context): Promise<RowResult> {
  const p = ctx.params;
  const started = now();
  const f = await loggingFixture(ctx.root, 'cli-start', MiB, 16 * MiB);
  const {markId} = await issueMark(f.primary, {group: f.group, app: 'bench'});
  closeSites(f);
  const commands = {
    mark: [BIN, 'mark', '--site', f.primaryDir, '--app', 'bench'],
    'pair display': [BIN, 'pair', 'display', '--site', f.primaryDir],
    'restore --dry-run': [BIN, 'restore', '--site', f.remoteDir, '--group', String(f.group), '--mark', String(markId), '--to', `${f.dir}/restored.img`, '--dry-run'],
  };
  const each: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map(name => [name, []]));
  let keep = false;
  const sides = await runPaired({
    warmup: Math.max(1, p.warmup), repeat: p.markRuns, settle: false, log: ctx.log('cli-start'),
    prepare: (side, rep) => {
      keep = rep >= Math.max(1, p.warmup);
    },
    marklog: () => {
      let slowest = 0;
      for (const [name, args] of Object.entries(commands)) {
        const seconds = spawnTimed(args);
        if (keep) each[name].push(seconds);
        slowest = Math.max(slowest, seconds);
      }
      return slowest;
    },
    baseline: () => spawnTimed(['-e', '0']),
  });
  ctx.cleanup(f.dir);
  return makeRow({
    n: 13, name: 'cli-start', figure: 'start-up: slowest of mark, pair display, restore --dry-run (spawn, median)', unit: 's',
    marklog: series('node bin/run.js: the slowest of the three commands in each repetition', sides.marklog),
    baseline: series('node -e 0', sides.baseline),
    target: {op: '<=', value: 1.5},
    detail: Object.fromEntries(Object.entries(each).map(([name, samples]) => [name, series(`node bin/run.js ${name}`, samples)])),
  }, since(started));
}
