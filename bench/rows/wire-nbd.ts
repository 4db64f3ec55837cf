// Rows 24-31 (issue 15, item 7): the host writes of rows 17-20 (fio through `marklog
// serve`, 4 KiB random and 1 MiB sequential, PAIR and log mode) with the remote
// reached over the wire: ssh:// (MARKLOG_SSH a stand-in that runs the agent as a
// child process on its pipes) and tls:// (an agent listening on 127.0.0.1 with
// mutual TLS). The baseline is the same fio job with the remote a directory link,
// so the ratio is what the wire costs. Per mode, three fixtures and three servers
// (directory, ssh, tls) stay up for its rows; each job runs in rounds, one fio run
// against each server a round, the order rotating, and both wire rows of a job
// take the directory side of the same rounds as their baseline.
import {createPair} from '../../src/pair/pair-create.js';
import {eachStep} from '../lib/child.js';
import type {Context} from '../lib/context.js';
import {closeSites, loggingFixture, twoSites, volume, type Sites} from '../lib/fixtures.js';
import {now, runRounds, since} from '../lib/measure.js';
import {runFio, startMarklog, type FioJob, type FioResult, type NbdTarget} from '../lib/nbd.js';
import {MiB, type Params, type RowName} from '../lib/params.js';
import {RemoteKit, type ReachKind} from '../lib/remote.js';
import {makeRow, series, type RowResult} from '../lib/result.js';

export type WireMode = 'PAIR' | 'log mode';
type Job = 'rand' | 'seq';

interface WireRow {
  n: number;
  name: RowName;
  reach: 'ssh' | 'tls';
  mode: WireMode;
  job: Job;
}

export const WIRE_ROWS: WireRow[] = [
  {n: 24, name: 'wire-ssh-pair-rand', reach: 'ssh', mode: 'PAIR', job: 'rand'},
  {n: 25, name: 'wire-ssh-pair-seq', reach: 'ssh', mode: 'PAIR', job: 'seq'},
  {n: 26, name: 'wire-tls-pair-rand', reach: 'tls', mode: 'PAIR', job: 'rand'},
  {n: 27, name: 'wire-tls-pair-seq', reach: 'tls', mode: 'PAIR', job: 'seq'},
  {n: 28, name: 'wire-ssh-log-rand', reach: 'ssh', mode: 'log mode', job: 'rand'},
  {n: 29, name: 'wire-ssh-log-seq', reach: 'ssh', mode: 'log mode', job: 'seq'},
  {n: 30, name: 'wire-tls-log-rand', reach: 'tls', mode: 'log mode', job: 'rand'},
  {n: 31, name: 'wire-tls-log-seq', reach: 'tls', mode: 'log mode', job: 'seq'},
];

export const WIRE_MODES: WireMode[] = ['PAIR', 'log mode'];
const TARGET = 0.7;

const REACH_WORDS: Record<ReachKind, string> = {
  directory: 'the remote a directory link',
  ssh: 'over ssh:// (the agent a child process on the stand-in\'s pipes)',
  tls: 'over tls:// to marklog agent --listen on 127.0.0.1',
};

/** Rows 17-20's jobs, with the wire rows' sizes. */
export function wireJob(p: Params, job: Job): FioJob {
  const size = p.nbdVolMib * MiB;
  if (job === 'seq') return {rw: 'write', bs: MiB, iodepth: 8, size, ioSize: p.wireSeqMib * MiB, endFsync: true};
  return {rw: 'randwrite', bs: 4096, iodepth: 8, size, ioSize: p.wireRandMib * MiB, endFsync: true};
}

/** A primary and a remote linked by `reach`, its M-VOL in the mode; the server opens the sites itself. */
async function modeFixture(ctx: Context, kit: RemoteKit, mode: WireMode, reach: ReachKind, jobs: FioJob[]): Promise<{sites: Sites; mvol: number}> {
  const p = ctx.params;
  const capacity = p.nbdVolMib * MiB;
  const name = `wire-${mode === 'PAIR' ? 'pair' : 'log'}-${reach}`;
  if (mode === 'log mode') {
    // A record header and block checksums per write: 50 % over the data is ample.
    const log = jobs.reduce((sum, job) => sum + (p.warmup + p.repeat) * job.ioSize * 1.5, 0);
    const f = await loggingFixture(ctx.root, name, capacity, 4 * MiB + log, undefined, kit.reach(reach));
    closeSites(f);
    return {sites: f, mvol: f.mvol};
  }
  const sites = await twoSites(ctx.root, name, kit.reach(reach));
  const mvol = volume(sites.primary, capacity);
  const {state} = await createPair(sites.primary, {mvol, rvol: volume(sites.remote, capacity)});
  if (state !== 'PAIR') throw new Error(`the pair is ${state} after create`);
  closeSites(sites);
  return {sites, mvol};
}

export async function wireMode(ctx: Context, mode: WireMode): Promise<RowResult[]> {
  const p = ctx.params;
  const rows = WIRE_ROWS.filter(row => row.mode === mode && ctx.wants(row.name));
  if (rows.length === 0) return [];
  const started = now();
  const reaches: ReachKind[] = ['directory', ...(['ssh', 'tls'] as const).filter(r => rows.some(row => row.reach === r))];
  const jobs = (['rand', 'seq'] as const).filter(job => rows.some(row => row.job === job));
  const kit = new RemoteKit(`${ctx.root}/wire-${mode === 'PAIR' ? 'pair' : 'log'}-kit`);
  const servers = new Map<ReachKind, NbdTarget>();
  const dirs: string[] = [];
  const out: RowResult[] = [];
  try {
    for (const reach of reaches) {
      const {sites, mvol} = await modeFixture(ctx, kit, mode, reach, jobs.map(job => wireJob(p, job)));
      dirs.push(sites.dir);
      servers.set(reach, await startMarklog(sites.primaryDir, mvol));
    }
    ctx.log(`wire ${mode}`)(`fixtures and servers ready in ${since(started).toFixed(1)} s`);
    for (const job of jobs) {
      const t = now();
      const fio = wireJob(p, job);
      const seq = job === 'seq';
      const kept = Object.fromEntries(reaches.map(r => [r, [] as FioResult[]])) as Record<ReachKind, FioResult[]>;
      const samples = await runRounds({warmup: p.warmup, repeat: p.repeat, settle: p.settle, log: ctx.log(`wire ${mode} ${job}`), unit: seq ? 'MiB/s' : 'ops/s'},
        Object.fromEntries(reaches.map(reach => [reach, {
          work: (round: number) => {
            const result = runFio(servers.get(reach)!.uri, fio);
            if (round >= p.warmup) kept[reach].push(result);
            return seq ? result.bytesPerSecond / MiB : result.iops;
          },
        }])) as Record<ReachKind, {work: (round: number) => number}>);
      const latency = (reach: ReachKind) => series('µs', kept[reach].map(r => r.meanLatencyMicros)).median;
      for (const row of rows.filter(r => r.job === job)) {
        out.push(makeRow({
          n: row.n, name: row.name, unit: seq ? 'MiB/s' : 'ops/s',
          figure: `fio through NBD, ${seq ? '1 MiB sequential' : '4 KiB random'} writes, queue depth 8, ${mode}, remote over ${row.reach}:// against a directory link`,
          marklog: series(`fio --ioengine=nbd through marklog serve, ${mode}, ${REACH_WORDS[row.reach]}`, samples[row.reach]),
          baseline: series(`the same fio job through marklog serve, ${mode}, ${REACH_WORDS.directory} (same rounds)`, samples.directory),
          target: {op: '>=', value: TARGET},
          detail: {
            fio: {...fio, fsync: 0}, volumeBytes: p.nbdVolMib * MiB,
            marklogMeanLatencyMicros: latency(row.reach), baselineMeanLatencyMicros: latency('directory'),
            note: `rows ${rows.filter(r => r.job === job).map(r => r.n).join(' and ')} are measured in the same rounds, order rotating`,
          },
        }, since(t)));
      }
    }
  } finally {
    await eachStep([...[...servers.values()].map(server => () => server.stop()), () => kit.stop(), ...[...dirs, kit.dir].map(dir => () => ctx.cleanup(dir))]);
  }
  return out;
}
