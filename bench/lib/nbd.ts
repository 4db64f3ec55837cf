// The NBD rows' tools: nbdkit's file plugin (the C server the rows measure against),
// `marklog serve` (started the one way the tests start it), and fio's nbd engine
// running one job to the end and reporting what it measured.
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {exited, type Exit} from '../../test/helpers/processes.js';
import {launchServe, stopServe, type LaunchOptions} from '../../test/helpers/serve.js';
import {accepts, freePort} from '../../test/helpers/ports.js';
import {waitFor} from '../../test/helpers/wait.js';
import {runPaired} from './measure.js';
import {MiB, type Params} from './params.js';
import {series} from './result.js';

export interface NbdTarget {
  /** What a client connects to: nbd://127.0.0.1:PORT/EXPORT. */
  uri: string;
  pid: number;
  stop(): Promise<void>;
}

async function ended(child: ChildProcess, done: Promise<Exit>, what: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const exit = await done;
  if (exit.code !== 0 && exit.signal !== 'SIGTERM') throw new Error(`${what} exited ${exit.code ?? exit.signal}: ${exit.stderr}`);
}

/**
 * nbdkit's file plugin on `file`, its defaults otherwise (parallel thread model,
 * 16 threads; FLUSH is an fdatasync of the file). It ends with the bench.
 */
export async function startNbdkit(file: string): Promise<NbdTarget> {
  const port = await freePort();
  const child = spawn('nbdkit', ['-f', '--exit-with-parent', '-i', '127.0.0.1', '-p', String(port), 'file', file], {stdio: ['ignore', 'ignore', 'pipe']});
  const done = exited(child);
  await waitFor(async () => child.exitCode !== null || await accepts(port), {what: 'nbdkit to listen', timeoutMs: 20_000});
  if (child.exitCode !== null) throw new Error(`nbdkit exited ${child.exitCode}: ${(await done).stderr}`);
  return {uri: `nbd://127.0.0.1:${port}/`, pid: child.pid!, stop: () => ended(child, done, 'nbdkit')};
}

/** `marklog serve` exporting one LDEV of a primary site. */
export function startMarklog(site: string, ldev: number, options: LaunchOptions = {}): Promise<NbdTarget> {
  return startServe(site, ['--vol', String(ldev)], String(ldev), options);
}

/** `marklog serve --site SITE ...args`, the client connecting to export `name`. */
export async function startServe(site: string, args: string[], name: string, options: LaunchOptions = {}): Promise<NbdTarget> {
  const served = await launchServe(site, args, options);
  return {
    uri: `${served.url}/${name}`, pid: served.child.pid!,
    async stop() {
      const exit = await stopServe(served);
      if (exit === 'hung' || exit.code !== 0) throw new Error(`marklog serve did not exit 0 on SIGTERM: ${exit === 'hung' ? 'hung' : `${exit.code ?? exit.signal}: ${exit.stderr}`}`);
    },
  };
}

export interface FioJob {
  rw: 'randwrite' | 'write' | 'randread' | 'read';
  /** Block size in bytes. */
  bs: number;
  iodepth: number;
  /** The region of the export the job covers (fio's --size). */
  size: number;
  /** Bytes the job moves (fio's --io_size); a sequential job past `size` wraps to its start. */
  ioSize: number;
  /** One FLUSH at the end of a write job, inside its timed run (fio's end_fsync). */
  endFsync: boolean;
}

export interface FioResult {
  bytesPerSecond: number;
  iops: number;
  /** The job's run as fio timed it (end_fsync included), ms. */
  runtimeMs: number;
  /** Mean completion latency, µs. */
  meanLatencyMicros: number;
}

/** The fio command line of a job: the same for both servers, only the URI differs. */
export function fioArgs(uri: string, job: FioJob): string[] {
  return [
    '--name=bench', '--ioengine=nbd', `--uri=${uri}`, `--rw=${job.rw}`, `--bs=${job.bs}`, `--iodepth=${job.iodepth}`,
    `--size=${job.size}`, `--io_size=${job.ioSize}`, '--randrepeat=1', '--fsync=0', `--end_fsync=${job.endFsync ? 1 : 0}`,
    '--output-format=json',
  ];
}

/** Runs one fio job to the end (synchronously: the servers are other processes); throws unless it moved every byte without an error. */
export function runFio(uri: string, job: FioJob): FioResult {
  const args = fioArgs(uri, job);
  const result = spawnSync('fio', args, {encoding: 'utf8', maxBuffer: 16 * 1024 * 1024});
  if (result.status !== 0) throw new Error(`fio ${args.join(' ')} exited ${result.status ?? result.signal}: ${result.stderr}${result.stdout}`);
  // The nbd engine prints "fio: connected to NBD server" before the JSON.
  const out = JSON.parse(result.stdout.slice(result.stdout.indexOf('{')));
  const report = out.jobs[0];
  const side = report[job.rw === 'randread' || job.rw === 'read' ? 'read' : 'write'];
  if (report.error !== 0 || side.io_bytes !== job.ioSize) throw new Error(`fio against ${uri}: error ${report.error}, ${side.io_bytes} of ${job.ioSize} bytes`);
  return {bytesPerSecond: side.bw_bytes, iops: side.iops, runtimeMs: side.runtime, meanLatencyMicros: side.clat_ns.mean / 1000};
}

/** What one NBD row measured: each side's figures (IOPS, or MiB/s for a sequential job) and fio's own timings. */
export interface FioSides {
  sides: {marklog: number[]; baseline: number[]};
  unit: 'MiB/s' | 'ops/s';
  timing: {marklogMeanLatencyMicros: number; baselineMeanLatencyMicros: number; marklogRuntimeMs: number[]; baselineRuntimeMs: number[]};
}

/** Runs one fio job against marklog's URI and the baseline's, alternating, as runPaired does for every row. */
export async function pairedFio(p: Params, log: (line: string) => void, job: FioJob, uris: {marklog: string; baseline: string}): Promise<FioSides> {
  const seq = job.rw === 'write' || job.rw === 'read';
  const results: Record<'marklog' | 'baseline', FioResult[]> = {marklog: [], baseline: []};
  let keep = false;
  const measure = (side: 'marklog' | 'baseline') => {
    const result = runFio(uris[side], job);
    if (keep) results[side].push(result);
    return seq ? result.bytesPerSecond / MiB : result.iops;
  };
  const unit = seq ? 'MiB/s' : 'ops/s';
  const sides = await runPaired({
    warmup: p.warmup, repeat: p.repeat, settle: p.settle, log, unit,
    prepare: (_side, rep) => {
      keep = rep >= p.warmup;
    },
    marklog: () => measure('marklog'),
    baseline: () => measure('baseline'),
  });
  const latency = (side: 'marklog' | 'baseline') => series('mean completion latency, µs', results[side].map(r => r.meanLatencyMicros)).median;
  return {
    sides, unit,
    timing: {
      marklogMeanLatencyMicros: latency('marklog'), baselineMeanLatencyMicros: latency('baseline'),
      marklogRuntimeMs: results.marklog.map(r => r.runtimeMs), baselineRuntimeMs: results.baseline.map(r => r.runtimeMs),
    },
  };
}
