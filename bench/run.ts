// `npm run bench`: marklog's performance figures, each against a baseline measured
// in the same run on the same file system (issue 6). Prints a table and writes
// bench/results/latest.json.
import '../src/transport/transports.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {Context} from './lib/context.js';
import {describeMachine, headerLines, tempRoot} from './lib/machine.js';
import {now, since} from './lib/measure.js';
import {ROW_NAMES, parseParams, type RowName} from './lib/params.js';
import type {RowResult} from './lib/result.js';
import {renderSpread, renderTable} from './lib/table.js';
import {copyRows} from './rows/copy.js';
import {cliStart} from './rows/cli-start.js';
import {restoreEarly} from './rows/restore-early.js';
import {markCli} from './rows/mark.js';
import {markScale} from './rows/mark-scale.js';
import {NBD_MODES, NBD_ROWS, nbdMode} from './rows/nbd.js';
import {MARK_ROWS, nbdMarkRows} from './rows/nbd-mark.js';
import {restoreOverwrite, restoreUnique} from './rows/restore.js';
import {restoreRss} from './rows/rss.js';
import {LogWriteFixture, logWriteRand, logWriteSeq, pairWrite} from './rows/writes.js';
import {WIRE_MODES, WIRE_ROWS, wireMode} from './rows/wire-nbd.js';
import {wireDelay} from './rows/wire-delay.js';
import {wireCopy} from './rows/wire-copy.js';

const params = (() => {
  try {
    return parseParams(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    process.exit(2);
  }
})();

const started = now();
const machine = describeMachine(params.dir);
const root = tempRoot(params.dir);
const ctx = new Context(params, root, process.env.BENCH_VERBOSE !== '0');
for (const line of headerLines(machine)) process.stdout.write(`${line}\n`);
process.stdout.write(`temp directory: ${root}; repeat ${params.repeat} (median), warm-up ${params.warmup}, rows: ${[...params.only].join(', ')}\n\n`);

const rows: RowResult[] = [];
const failures: {n: number; name: string; error: string}[] = [];

async function attempt(names: RowName[], work: () => Promise<RowResult | RowResult[]>): Promise<void> {
  const wanted = names.filter(n => ctx.wants(n));
  if (wanted.length === 0) return;
  const t = now();
  ctx.note(`… ${wanted.join(', ')}`);
  try {
    const out = await work();
    for (const row of Array.isArray(out) ? out : [out]) {
      rows.push(row);
      const ratio = row.ratio === null ? '' : ` ratio ${row.ratio.toFixed(3)}`;
      ctx.note(`  ${row.n}. ${row.name}:${ratio} ${row.pass ? 'PASS' : 'MISS'} (${row.wallSeconds.toFixed(1)} s)`);
    }
  } catch (error) {
    for (const name of wanted) failures.push({n: ROW_NAMES.indexOf(name) + 1, name, error: (error as Error).stack ?? String(error)});
    ctx.note(`  ${wanted.join(', ')} failed after ${since(t).toFixed(1)} s: ${(error as Error).stack}`);
  }
}

await attempt(['pair-write'], () => pairWrite(ctx));
await attempt(['log-write-seq', 'log-write-rand'], async () => {
  const fixture = await LogWriteFixture.create(ctx);
  try {
    const out: RowResult[] = [];
    if (ctx.wants('log-write-seq')) out.push(await logWriteSeq(ctx, fixture));
    if (ctx.wants('log-write-rand')) out.push(await logWriteRand(ctx, fixture));
    return out;
  } finally {
    fixture.close(ctx);
  }
});
await attempt(['pair-create', 'pair-create-sparse', 'resync'], () => copyRows(ctx));
await attempt(['restore-overwrite'], () => restoreOverwrite(ctx));
await attempt(['restore-unique'], () => restoreUnique(ctx));
await attempt(['mark-cli'], () => markCli(ctx));
await attempt(['restore-rss'], () => restoreRss(ctx));
await attempt(['mark-many', 'mark-list'], () => markScale(ctx));
await attempt(['cli-start'], () => cliStart(ctx));
await attempt(['restore-early'], () => restoreEarly(ctx));
for (const mode of NBD_MODES) await attempt(NBD_ROWS.filter(row => row.mode === mode).map(row => row.name), () => nbdMode(ctx, mode));
await attempt(MARK_ROWS.map(row => row.name), () => nbdMarkRows(ctx));
for (const mode of WIRE_MODES) await attempt(WIRE_ROWS.filter(row => row.mode === mode).map(row => row.name), () => wireMode(ctx, mode));
await attempt(['wire-delay-pair-rand'], () => wireDelay(ctx));
await attempt(['wire-pair-create'], () => wireCopy(ctx));

machine.loadAvgEnd = os.loadavg().map(v => Math.round(v * 100) / 100);
const seconds = since(started);
rows.sort((a, b) => a.n - b.n);
process.stdout.write(`${headerLines(machine).join('\n')}\n`);
process.stdout.write(`total ${seconds.toFixed(0)} s; command: npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\n\n`);
process.stdout.write(`${renderTable(rows, failures)}\n\nspread (min … max):\n${renderSpread(rows)}\n`);

const {only, ...rest} = params;
fs.mkdirSync(path.dirname(params.out), {recursive: true});
fs.writeFileSync(params.out, `${JSON.stringify({
  command: ['npm', 'run', 'bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
  machine,
  params: {...rest, only: [...only]},
  totalSeconds: seconds,
  rows,
  failures,
}, null, 2)}\n`);
process.stdout.write(`\nresults: ${params.out}\n`);
if (!params.keep) fs.rmSync(root, {recursive: true, force: true});
process.exitCode = failures.length > 0 ? 1 : 0;
