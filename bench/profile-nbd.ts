// Where `marklog serve` spends a bench row's fio job (docs/PERFORMANCE.md, "Profiling it
// yourself"): builds the row's fixture, runs the job `--runs` times against a server
// started with `node --cpu-prof`, and prints the functions with the most self time;
// with --strace, the same job against a server under `strace -c -f` and the system
// calls per NBD request.
// Rows 22-23 profile the mark export (--restored: the restored image's server instead).
//   node dist/bench/profile-nbd.js --row 19 [--runs 3] [--strace] [--keep]
//   node dist/bench/profile-nbd.js --row 23 [--restored] [--strace]
import '../src/transport/transports.js';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {Context} from './lib/context.js';
import {tempRoot} from './lib/machine.js';
import {runFio, startMarklog, type FioJob, type NbdTarget} from './lib/nbd.js';
import {parseParams} from './lib/params.js';
import type {LaunchOptions} from '../test/helpers/serve.js';
import {NBD_ROWS, fioJob, fixture} from './rows/nbd.js';
import {MARK_ROWS, markFixture, markJob, startMarkExport, startRestored} from './rows/nbd-mark.js';

const {values} = parseArgs({options: {row: {type: 'string'}, runs: {type: 'string'}, strace: {type: 'boolean'}, keep: {type: 'boolean'}, top: {type: 'string'}, restored: {type: 'boolean'}}});
const rows = [...NBD_ROWS, ...MARK_ROWS];
const row = rows.find(r => String(r.n) === values.row || r.name === values.row);
if (!row) throw new Error(`--row: one of ${rows.map(r => `${r.n} (${r.name})`).join(', ')}`);
const runs = Number(values.runs ?? 3);
const params = parseParams(['--repeat', String(Math.max(5, runs)), '--warmup', '0']);
const root = tempRoot(params.dir);
const ctx = new Context(params, root, false);
const seq = row.job === 'seq';

/** The row's fixture, its fio job and the server to profile. */
async function subject(): Promise<{job: FioJob; mode: string; start: (options?: LaunchOptions) => Promise<NbdTarget>}> {
  if ('mode' in row!) {
    const fx = await fixture(ctx, row.mode, [row]);
    return {job: fioJob(params, row.job), mode: row.mode, start: options => startMarklog(fx.sites.primaryDir, fx.mvol, options)};
  }
  const fx = await markFixture(ctx);
  const start = values.restored ? startRestored : startMarkExport;
  return {job: markJob(params, row!.job), mode: values.restored ? 'restored image' : 'mark export', start: options => start(fx, options)};
}
interface Node {
  id: number;
  callFrame: {functionName: string; url: string; lineNumber: number};
  children?: number[];
}

/** Self time by function (name, file, line), most first, in ms, and the total. */
function selfTimes(file: string): {rows: [string, number][]; total: number} {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as {nodes: Node[]; samples: number[]; timeDeltas: number[]};
  const byId = new Map(profile.nodes.map(n => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const {functionName, url, lineNumber} = byId.get(id)!.callFrame;
    if (functionName === '(idle)') return;
    const key = `${functionName || '(anonymous)'} ${url ? `${path.basename(url)}:${lineNumber + 1}` : ''}`.trim();
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    self.set(key, (self.get(key) ?? 0) + ms);
    total += ms;
  });
  return {rows: [...self].sort((a, b) => b[1] - a[1]), total};
}

const {job, mode, start} = await subject();
const requests = runs * (job.ioSize / job.bs + (job.endFsync ? 1 : 0));
const profDir = path.join(root, 'cpu-prof');
try {
  const served = await start({nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`]});
  const seen: number[] = [];
  for (let i = 0; i < runs; i++) seen.push(seq ? runFio(served.uri, job).bytesPerSecond / 2 ** 20 : runFio(served.uri, job).iops);
  await served.stop();
  const [file] = fs.readdirSync(profDir).filter(f => f.endsWith('.cpuprofile'));
  const {rows, total} = selfTimes(path.join(profDir, file));
  process.stdout.write(`row ${row.n} (${row.name}, ${mode}): ${runs} fio runs, ${seen.map(v => v.toFixed(0)).join(' / ')} ${seq ? 'MiB/s' : 'IOPS'}; ${requests} requests\n`);
  process.stdout.write(`busy (not idle) ${total.toFixed(0)} ms = ${(total * 1000 / requests).toFixed(1)} µs a request; self time:\n`);
  for (const [name, ms] of rows.slice(0, Number(values.top ?? 25))) process.stdout.write(`  ${(ms / total * 100).toFixed(1).padStart(5)} %  ${(ms * 1000 / requests).toFixed(2).padStart(6)} µs/req  ${name}\n`);

  if (values.strace) {
    const traced = await start();
    const summary = path.join(root, 'strace.txt');
    const strace = spawn('strace', ['-c', '-f', '-o', summary, '-p', String(traced.pid)], {stdio: 'ignore'});
    await new Promise(resolve => setTimeout(resolve, 500));
    for (let i = 0; i < runs; i++) runFio(traced.uri, job);
    strace.kill('SIGINT');
    await new Promise(resolve => strace.once('close', resolve));
    await traced.stop();
    process.stdout.write(`\nstrace -c -f (${requests} requests):\n`);
    for (const line of fs.readFileSync(summary, 'utf8').split('\n')) {
      const m = /^\s*[\d.]+\s+[\d.]+\s+(\d+)\s+(\d+)\s+(?:\d+\s+)?(\w+)$/.exec(line);
      if (m && Number(m[2]) >= requests / 100) process.stdout.write(`  ${(Number(m[2]) / requests).toFixed(2).padStart(7)} per request  ${m[3]} (${m[2]}, ${m[1]} µs each under strace)\n`);
      else if (/total/.test(line)) process.stdout.write(`  ${line.trim()}\n`);
    }
  }
} finally {
  if (!values.keep) fs.rmSync(root, {recursive: true, force: true});
  else process.stdout.write(`kept ${root}\n`);
}
