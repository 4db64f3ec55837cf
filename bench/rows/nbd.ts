// Rows 15-21 (issue 14, item 6): fio's nbd engine through `marklog serve` against the
// same fio job through nbdkit's file plugin on a plain file of the same size, the two
// back to back in every repetition. Volumes with no pair, in PAIR (every write also
// goes to the R-VOL) and in log mode (every write also becomes a log record), and 4
// KiB random reads of a filled volume. Both servers stay up for a row's repetitions;
// each repetition is one whole fio run (its own connection).
import fs from 'node:fs';
import path from 'node:path';
import {createPair} from '../../src/pair/pair-create.js';
import type {Context} from '../lib/context.js';
import {closeSites, fillImage, imageOf, loggingFixture, randomPool, twoSites, volume, type Sites} from '../lib/fixtures.js';
import {now, since} from '../lib/measure.js';
import {startMarklog, startNbdkit, pairedFio, type FioJob} from '../lib/nbd.js';
import {MiB, type Params, type RowName} from '../lib/params.js';
import {makeRow, series, type RowResult} from '../lib/result.js';

export type NbdMode = 'no pair' | 'PAIR' | 'log mode' | 'filled';

interface NbdRow {
  n: number;
  name: RowName;
  mode: NbdMode;
  job: 'rand' | 'seq' | 'read';
  target: number;
}

export const NBD_ROWS: NbdRow[] = [
  {n: 15, name: 'nbd-write-rand', mode: 'no pair', job: 'rand', target: 0.8},
  {n: 16, name: 'nbd-write-seq', mode: 'no pair', job: 'seq', target: 0.8},
  {n: 17, name: 'nbd-pair-rand', mode: 'PAIR', job: 'rand', target: 0.6},
  {n: 18, name: 'nbd-pair-seq', mode: 'PAIR', job: 'seq', target: 0.6},
  {n: 19, name: 'nbd-log-rand', mode: 'log mode', job: 'rand', target: 0.6},
  {n: 20, name: 'nbd-log-seq', mode: 'log mode', job: 'seq', target: 0.6},
  {n: 21, name: 'nbd-read-rand', mode: 'filled', job: 'read', target: 0.8},
];

export const NBD_MODES: NbdMode[] = ['no pair', 'PAIR', 'log mode', 'filled'];

export function fioJob(p: Params, job: NbdRow['job']): FioJob {
  const size = p.nbdVolMib * MiB;
  if (job === 'seq') return {rw: 'write', bs: MiB, iodepth: 8, size, ioSize: p.nbdSeqMib * MiB, endFsync: true};
  return {rw: job === 'read' ? 'randread' : 'randwrite', bs: 4096, iodepth: 8, size, ioSize: p.nbdRandMib * MiB, endFsync: job !== 'read'};
}

const FIGURE: Record<NbdRow['job'], string> = {
  rand: '4 KiB random writes, queue depth 8',
  seq: '1 MiB sequential writes, queue depth 8',
  read: '4 KiB random reads, queue depth 8',
};

export interface ModeFixture {
  sites: Sites;
  mvol: number;
  /** nbdkit's plain file, the size of the M-VOL. */
  file: string;
}

/** Log bytes a fio job adds in log mode (a record header and block checksums per write: 50 % is ample). */
function logBytes(job: FioJob): number {
  return job.ioSize * 1.5;
}

export async function fixture(ctx: Context, mode: NbdMode, rows: NbdRow[]): Promise<ModeFixture> {
  const p = ctx.params;
  const capacity = p.nbdVolMib * MiB;
  const name = `nbd-${mode.replace(' ', '-')}`;
  let sites: Sites;
  let mvol: number;
  if (mode === 'log mode') {
    const runs = p.warmup + p.repeat;
    const log = rows.reduce((sum, row) => sum + runs * logBytes(fioJob(p, row.job)), 0);
    const f = await loggingFixture(ctx.root, name, capacity, 4 * MiB + log);
    sites = f;
    mvol = f.mvol;
  } else {
    sites = await twoSites(ctx.root, name);
    mvol = volume(sites.primary, capacity);
    if (mode === 'PAIR') {
      const {state} = await createPair(sites.primary, {mvol, rvol: volume(sites.remote, capacity)});
      if (state !== 'PAIR') throw new Error(`the pair is ${state} after create`);
    }
  }
  const file = path.join(sites.dir, 'nbdkit.img');
  if (mode === 'filled') {
    fillImage(imageOf(sites.primary, mvol), capacity, randomPool(32 * MiB));
    fs.copyFileSync(imageOf(sites.primary, mvol), file);
  } else {
    fs.writeFileSync(file, '');
    fs.truncateSync(file, capacity);
  }
  // The server opens the site itself; the bench lets go of it.
  closeSites(sites);
  return {sites, mvol, file};
}

/** The rows of one mode, against one marklog serve and one nbdkit kept up for all of them. */
export async function nbdMode(ctx: Context, mode: NbdMode): Promise<RowResult[]> {
  const p = ctx.params;
  const rows = NBD_ROWS.filter(row => row.mode === mode && ctx.wants(row.name));
  if (rows.length === 0) return [];
  const fx = await fixture(ctx, mode, rows);
  const nbdkit = await startNbdkit(fx.file);
  const marklog = await startMarklog(fx.sites.primaryDir, fx.mvol).catch(async error => {
    await nbdkit.stop();
    throw error;
  });
  const out: RowResult[] = [];
  try {
    for (const row of rows) {
      const started = now();
      const job = fioJob(p, row.job);
      const {sides, unit, timing} = await pairedFio(p, ctx.log(row.name), job, {marklog: marklog.uri, baseline: nbdkit.uri});
      out.push(makeRow({
        n: row.n, name: row.name, figure: `fio through NBD, ${FIGURE[row.job]}, ${mode === 'filled' ? 'filled volume, no pair' : mode}`, unit,
        marklog: series(`fio --ioengine=nbd through marklog serve, ${mode}`, sides.marklog),
        baseline: series('the same fio job through nbdkit\'s file plugin on a plain file', sides.baseline),
        target: {op: '>=', value: row.target},
        detail: {
          fio: {...job, fsync: 0}, volumeBytes: p.nbdVolMib * MiB,
          ...timing,
        },
      }, since(started)));
    }
  } finally {
    await marklog.stop();
    await nbdkit.stop();
    ctx.cleanup(fx.sites.dir);
  }
  return out;
}
