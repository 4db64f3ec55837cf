// Issue 14, item 6: the memory of `marklog serve` stays flat under a long fio load.
// One server exports three volumes: one in log mode, one in PAIR and one with no pair,
// and one fio run loads all three at once for MARKLOG_SOAK_MINUTES (10 by default;
// `npm run soak` runs it, `npm test` does not): random 4 KiB reads and writes with
// FLUSHes, writes of 4 KiB to 1 MiB, and a rate-limited stream of logged writes (so the
// log does not fill). The server's resident set is read from /proc/PID/status every
// two seconds. After a warm-up (the first tenth of the run, at least 5 s), the median
// of the last quarter of the samples must stay within 1.2 × the median of the first
// quarter + 8 MiB. At the end the server exits 0 on SIGTERM, a mark issued after the
// load restores the logged volume to its M-VOL, and verify is clean at both sites.
// MARKLOG_SOAK_NODE_ARGS passes node options to the server; with --trace-gc among them
// the test also logs how many scavenges and mark-compacts ran and the V8 heap in use
// after mark-compacts along the run (e.g. "--trace-gc --max-old-space-size=32" makes
// V8 collect its old space often, so what stays live shows).
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cli, cliJson} from '../helpers/cli.js';
import {digest, imageBytes, loggingSites, restore} from '../helpers/logging.js';
import {exited} from '../helpers/processes.js';
import {median, rssBound, rssSampler} from '../helpers/rss-sampler.js';
import {serve, stopServe} from '../helpers/serve.js';
import {createVolume, imagePath} from '../helpers/sites.js';

const MINUTES = Number(process.env.MARKLOG_SOAK_MINUTES ?? 10);
const SAMPLE_MS = 2000;
/** Logged bytes per second fio may write to the log-mode volume: 10 minutes make 600 MiB of records. */
const LOG_RATE = 1024 * 1024;
const MiB = 1024 * 1024;

test(`marklog serve under fio for ${MINUTES} min (MARKLOG_SOAK_MINUTES): its RSS after warm-up stays within 1.2 × its early median + 8 MiB, and the logged volume restores from a mark issued after the load`, async t => {
  const seconds = Math.max(10, Math.round(MINUTES * 60));
  t.timeout((seconds + 300) * 1000);
  const logMib = Math.ceil(seconds * LOG_RATE * 1.5 / MiB) + 64;
  const sites = loggingSites(t, {size: '64M', logSize: `${logMib}M`, base: 'holes'});
  const logged = sites.members[0];
  const paired = {mvol: createVolume(sites.primary, '64M'), rvol: createVolume(sites.remote, '64M')};
  cliJson(['pair', 'create', '--site', sites.primary, '--mvol', String(paired.mvol), '--rvol', String(paired.rvol)]);
  const plain = createVolume(sites.primary, '64M');
  const nodeArgs = (process.env.MARKLOG_SOAK_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const traceGc = nodeArgs.includes('--trace-gc');
  const served = await serve(t, sites.primary, [], {nodeArgs});

  const sampler = rssSampler(served.child.pid!, SAMPLE_MS);
  const uri = (ldev: number) => `--uri=${served.url}/${ldev}`;
  // fio runs beside the test (not spawnSync): the sampler needs this event loop meanwhile.
  const fio = spawn('fio', [
    '--ioengine=nbd', '--time_based', `--runtime=${seconds}`, '--output-format=json', '--randrepeat=0',
    '--name=pair-randrw', uri(paired.mvol), '--rw=randrw', '--rwmixread=50', '--bs=4k', '--iodepth=8', '--fsync=64',
    '--name=plain-mixed', uri(plain), '--rw=randrw', '--rwmixread=30', '--bssplit=4k/50:64k/40:1m/10', '--iodepth=4', '--fsync=16',
    '--name=log-writes', uri(logged.mvol), '--rw=randwrite', '--bs=4k', '--iodepth=4', `--rate=${LOG_RATE}`, '--fsync=32',
  ], {stdio: ['ignore', 'pipe', 'pipe']});
  t.teardown(() => fio.kill('SIGKILL'));
  const ran = await exited(fio);
  const samples = sampler.stop();
  t.is(ran.code, 0, `fio: ${ran.stderr}`);
  const output = ran.stdout;
  const jobs = JSON.parse(output.slice(output.indexOf('{'))).jobs as {jobname: string; error: number; read: {io_bytes: number}; write: {io_bytes: number}}[];
  for (const job of jobs) t.is(job.error, 0, `fio job ${job.jobname}`);

  const bound = rssBound(samples, {warmupFraction: 0.1, warmupMs: 5000});
  const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
  t.log(`${samples.length} samples over ${seconds} s (${bound.counted} after the warm-up); RSS ${mib(Math.min(...samples.map(s => s.rss)))} … ${mib(Math.max(...samples.map(s => s.rss)))}, peak (VmHWM) ${mib(samples.at(-1)!.hwm)}; anonymous ${mib(samples[0].anon)} at the start, ${mib(samples.at(-1)!.anon)} at the end`);
  t.log(`after warm-up: first quarter median ${mib(bound.first)}, last quarter median ${mib(bound.last)}, bound ${mib(bound.limit)}`);
  t.log(`per minute (median): ${perMinute(samples).map(mib).join(', ')}`);
  t.log(`fio moved ${jobs.map(j => `${j.jobname} ${mib(j.read.io_bytes + j.write.io_bytes)}`).join(', ')}`);
  const {markId} = cliJson(['mark', '--site', sites.primary, '--app', 'after-soak']);
  const stopped = await stopServe(served);
  if (traceGc && stopped !== 'hung') {
    const trace = stopped.stdout;
    t.log(`${trace.match(/Scavenge/g)?.length ?? 0} scavenges, ${trace.match(/Mark-Compact/g)?.length ?? 0} mark-compacts; V8 heap after mark-compacts (s: MB in use (of MB reserved)): ${liveHeap(trace).join(', ')}`);
  }
  t.true(bound.last <= bound.limit, `the last quarter's median RSS ${mib(bound.last)} is within ${mib(bound.limit)}`);
  t.like(stopped, {code: 0}, 'SIGTERM drains, flushes and exits 0');
  const restored = path.join(sites.root, 'restored.img');
  restore(sites.remote, sites.group, ['--mark', String(markId), '--rvol', String(logged.rvol), '--to', restored]);
  t.is(digest(imageBytes(restored)), digest(imageBytes(imagePath(sites.primary, logged.mvol))), 'the mark after the load restores the logged volume to its M-VOL');
  fs.rmSync(restored);
  for (const site of [sites.primary, sites.remote]) t.is(cli(['verify', '--site', site]).code, 0, `verify at ${path.basename(site)}`);
});

function perMinute(samples: {ms: number; rss: number}[]): number[] {
  const minutes = new Map<number, number[]>();
  for (const s of samples) minutes.set(Math.floor(s.ms / 60_000), [...(minutes.get(Math.floor(s.ms / 60_000)) ?? []), s.rss]);
  return [...minutes.values()].map(median);
}

/** From --trace-gc lines: seconds into the run and the heap in use after each mark-compact, ten of them spread over the run. */
function liveHeap(trace: string): string[] {
  const points = [...trace.matchAll(/(\d+) ms: Mark-Compact [\d.]+ \([\d.]+\) -> ([\d.]+) \(([\d.]+)\) MB/g)].map(m => `${(Number(m[1]) / 1000).toFixed(0)}: ${m[2]} (of ${m[3]})`);
  const step = Math.max(1, Math.floor(points.length / 10));
  return points.filter((_, i) => i % step === 0 || i === points.length - 1);
}
