// Row 9: `marklog mark` end to end (process start to exit) against `node -e 0`.
import {spawnSync} from 'node:child_process';
import path from 'node:path';
import {issueMark} from '../../src/mark/mark.js';
import {closeSites, loggingFixture} from '../lib/fixtures.js';
import {now, runPaired, runSingle, since, timed, timedAsync} from '../lib/measure.js';
import {MiB, ROOT} from '../lib/params.js';
import {makeRow, series, type RowResult} from '../lib/result.js';
import type {Context} from '../lib/context.js';

export const BIN = path.join(ROOT, 'bin', 'run.js');
const DIRECT = path.join(ROOT, 'dist', 'bench', 'mark-direct.js');

export function spawnTimed(args: string[]): number {
  let status: number | null = null;
  let stderr = '';
  const seconds = timed(() => {
    const child = spawnSync(process.execPath, args, {stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8'});
    status = child.status;
    stderr = child.stderr;
  });
  if (status !== 0) throw new Error(`node ${args.join(' ')} exited ${status}: ${stderr}`);
  return seconds;
}

export async function markCli(ctx: Context): Promise<RowResult> {
  const p = ctx.params;
  const started = now();
  const f = await loggingFixture(ctx.root, 'mark', MiB, 16 * MiB);
  const markArgs = [BIN, 'mark', '--site', f.primaryDir, '--app', 'bench'];
  const sides = await runPaired({
    warmup: Math.max(1, p.warmup), repeat: p.markRuns, settle: false, log: ctx.log('mark-cli'),
    marklog: () => spawnTimed(markArgs),
    baseline: () => spawnTimed(['-e', '0']),
  });
  // Where the time goes: the CLI framework alone, and the library call alone.
  const version = await runSingle({warmup: 1, repeat: p.markRuns, settle: false, work: () => spawnTimed([BIN, '--version'])});
  const direct = await runSingle({warmup: 1, repeat: p.markRuns, settle: false, work: () => spawnTimed([DIRECT, f.primaryDir])});
  const inProcess = await runSingle({warmup: 1, repeat: p.markRuns, settle: false, work: () => timedAsync(async () => {
    await issueMark(f.primary, {group: f.group, app: 'bench'});
  })});
  closeSites(f);
  ctx.cleanup(f.dir);
  return makeRow({
    n: 9, name: 'mark-cli', figure: '`marklog mark` end to end (spawn, median)', unit: 's',
    marklog: series('node bin/run.js mark --site P --app bench', sides.marklog),
    baseline: series('node -e 0', sides.baseline),
    target: {op: '<=', value: 3},
    detail: {
      versionSeconds: series('node bin/run.js --version (no command module loaded)', version),
      directSeconds: series('node dist/bench/mark-direct.js (the same library calls, unbundled)', direct),
      issueMarkSeconds: series('issueMark() in process (the work itself)', inProcess),
    },
  }, since(started));
}
