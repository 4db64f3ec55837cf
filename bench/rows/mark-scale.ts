// Rows 11 and 12: the host mark registry as marks accumulate (issue 11, defect 10).
// 11: `marklog mark` on a group that already has --many-marks marks, against the same
//     command on a fresh group (the cost must not grow with the marks).
// 12: `marklog mark list --json` of those marks at the primary, against a process that
//     only reads the marks from the remote log (what a listing cannot do without).
// The marks are put in place with two library calls (one append of every mark record
// to the log, one registry rewrite), not one process per mark.
import {spawnSync} from 'node:child_process';
import path from 'node:path';
import {appendToLog} from '../../src/log/remote-log.js';
import {rewriteRegistry} from '../../src/mark/host-registry.js';
import {closeSites, loggingFixture, type LoggingFixture} from '../lib/fixtures.js';
import {now, runPaired, since, timed} from '../lib/measure.js';
import {MiB, ROOT} from '../lib/params.js';
import {makeRow, series, type RowResult} from '../lib/result.js';
import {BIN} from './mark.js';
import type {Context} from '../lib/context.js';

const MARKS_IN_LOG = path.join(ROOT, 'dist', 'bench', 'marks-in-log.js');

function spawnTimed(args: string[]): number {
  let status: number | null = null;
  let stderr = '';
  const seconds = timed(() => {
    const child = spawnSync(process.execPath, args, {stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 256 * MiB});
    status = child.status;
    stderr = child.stderr;
  });
  if (status !== 0) throw new Error(`node ${args.join(' ')} exited ${status}: ${stderr}`);
  return seconds;
}

/** A logging pair whose group holds `count` marks, in the remote log and in the host registry. */
async function withMarks(ctx: Context, name: string, count: number): Promise<LoggingFixture> {
  const f = await loggingFixture(ctx.root, name, MiB, 64 * MiB);
  if (count === 0) return f;
  const base = Date.now() * 1000;
  const entries = Array.from({length: count}, (_, i) => ({kind: 'mark' as const, markId: i + 1, markTime: base + i, app: `job-${i % 7}`}));
  const {appended} = appendToLog(f.remote, f.group, entries);
  rewriteRegistry(f.primaryDir, {[f.group]: {
    next: count + 1,
    marks: appended.map((a, i) => ({markId: i + 1, logId: a.logId, time: new Date((base + i) / 1000).toISOString(), app: entries[i].app})),
  }});
  return f;
}

export async function markScale(ctx: Context): Promise<RowResult[]> {
  const p = ctx.params;
  const out: RowResult[] = [];
  const started = now();
  const many = await withMarks(ctx, 'marks-many', p.manyMarks);
  const fresh = await withMarks(ctx, 'marks-fresh', 0);
  const prepared = since(started);
  const mark = (f: LoggingFixture) => () => spawnTimed([BIN, 'mark', '--site', f.primaryDir, '--app', 'bench']);
  try {
    if (ctx.wants('mark-many')) {
      const t = now();
      const sides = await runPaired({warmup: Math.max(1, p.warmup), repeat: p.markRuns, settle: false, log: ctx.log('mark-many'), marklog: mark(many), baseline: mark(fresh)});
      out.push(makeRow({
        n: 11, name: 'mark-many', figure: `\`marklog mark\` with ${p.manyMarks.toLocaleString('en-US')} marks before it, against a fresh group`, unit: 's',
        marklog: series(`node bin/run.js mark, group with ${p.manyMarks} marks`, sides.marklog),
        baseline: series('node bin/run.js mark, fresh group', sides.baseline),
        target: {op: '<=', value: 1.2},
        detail: {preparedSeconds: prepared},
      }, since(t)));
    }
    if (ctx.wants('mark-list')) {
      const t = now();
      const sides = await runPaired({
        warmup: Math.max(1, p.warmup), repeat: p.repeat, settle: false, log: ctx.log('mark-list'),
        marklog: () => spawnTimed([BIN, 'mark', 'list', '--site', many.primaryDir, '--json']),
        baseline: () => spawnTimed([MARKS_IN_LOG, many.remoteDir, String(many.group)]),
      });
      const human = await runPaired({
        warmup: 0, repeat: 1, settle: false,
        marklog: () => spawnTimed([BIN, 'mark', 'list', '--site', many.primaryDir]),
        baseline: () => 0,
      });
      out.push(makeRow({
        n: 12, name: 'mark-list', figure: `\`marklog mark list --json\` of ${p.manyMarks.toLocaleString('en-US')} marks at the primary (ratio: against reading them from the log)`, unit: 's',
        marklog: series(`node bin/run.js mark list --site P --json (${p.manyMarks} marks)`, sides.marklog),
        baseline: series('node dist/bench/marks-in-log.js R G (the library reads the marks from the log, nothing else)', sides.baseline),
        checked: 'value', ratioToo: true, target: {op: '<=', value: 0.5},
        detail: {humanSeconds: series('node bin/run.js mark list --site P (the table)', human.marklog)},
      }, since(t)));
    }
  } finally {
    for (const f of [many, fresh]) {
      closeSites(f);
      ctx.cleanup(f.dir);
    }
  }
  return out;
}
