// Rows 22-23 (issue 14, item 6): "reads of the mark export ≥ 0.5 of reads of a restored
// image". A volume in log mode over a dense base takes 4 KiB host writes at random
// blocks (some blocks written more than once), a mark half-way, as many writes after
// it. At the remote, `marklog serve --group G --mark M` serves the R-VOL as it was at
// the mark (base + log, resolved per read); the baseline is the same mark restored
// (`restoreToMark` to an unused LDEV, what `marklog restore --to ldev:N` does) and
// served by `marklog serve --vol N --read-only`: the same server and protocol code,
// so the ratio is what resolving the mark costs. The same fio job on both, alternating.
import fs from 'node:fs';
import path from 'node:path';
import {HostWriter} from '../../src/io/host-writer.js';
import {issueMark} from '../../src/mark/mark.js';
import {restoreToMark} from '../../src/restore/restore.js';
import {run} from '../../test/helpers/serve.js';
import type {LaunchOptions} from '../../test/helpers/serve.js';
import type {Context} from '../lib/context.js';
import {closeSites, fillImage, imageOf, loggingFixture, randomPool, sha256, volume, type LoggingFixture} from '../lib/fixtures.js';
import {now, prng, since} from '../lib/measure.js';
import {pairedFio, startServe, type FioJob, type NbdTarget} from '../lib/nbd.js';
import {MiB, type Params, type RowName} from '../lib/params.js';
import {makeRow, series, type RowResult} from '../lib/result.js';

interface MarkRow {
  n: number;
  name: RowName;
  job: 'rand' | 'seq';
  figure: string;
}

export const MARK_ROWS: MarkRow[] = [
  {n: 22, name: 'nbd-mark-read-rand', job: 'rand', figure: 'fio through NBD, 4 KiB random reads, queue depth 8, mark export against its restored image'},
  {n: 23, name: 'nbd-mark-read-seq', job: 'seq', figure: 'fio through NBD, 1 MiB sequential reads, queue depth 8, mark export against its restored image'},
];

const TARGET = 0.5;
const BLOCK = 4096;

export function markJob(p: Params, job: MarkRow['job']): FioJob {
  const size = p.nbdVolMib * MiB;
  // Four passes over the volume by default: one pass (0.15-0.5 s) left the ratio at the mercy of one scheduling hiccup.
  if (job === 'seq') return {rw: 'read', bs: MiB, iodepth: 8, size, ioSize: p.nbdMarkSeqMib * MiB, endFsync: false};
  return {rw: 'randread', bs: BLOCK, iodepth: 8, size, ioSize: p.nbdRandMib * MiB, endFsync: false};
}

export interface MarkFixture {
  f: LoggingFixture;
  markId: number;
  /** The LDEV at the remote holding the restored mark. */
  restored: number;
  /** Writes logged before the mark, and the distinct blocks they left. */
  before: number;
  distinctBefore: number;
}

/** Log bytes of one 4 KiB write record (header, write header, block checksum), with room to spare. */
const RECORD_BYTES = BLOCK + 256;

export async function markFixture(ctx: Context): Promise<MarkFixture> {
  const p = ctx.params;
  const capacity = p.nbdVolMib * MiB;
  const pool = randomPool(32 * MiB);
  const writes = p.nbdMarkWrites;
  const f = await loggingFixture(ctx.root, 'nbd-mark', capacity, 4 * MiB + writes * RECORD_BYTES, image => fillImage(image, capacity, pool));
  const started = now();
  const random = prng(0x0e22);
  const blocks = capacity / BLOCK;
  const before = Math.floor(writes / 2);
  const seen = new Set<number>();
  let markId = -1;
  let writer = new HostWriter(f.primary);
  for (let i = 0; i < writes; i++) {
    const block = Math.floor(random() * blocks);
    if (i < before) seen.add(block);
    const at = (i * BLOCK) % (pool.length - BLOCK);
    const data = pool.subarray(at, at + BLOCK);
    data.writeUInt32LE(i, 0);
    await writer.write(f.mvol, block * BLOCK, data);
    if (i + 1 === before) {
      writer.release();
      markId = (await issueMark(f.primary, {group: f.group, app: 'bench'})).markId;
      writer = new HostWriter(f.primary);
    }
  }
  writer.release();
  const restored = volume(f.remote, capacity);
  await restoreToMark(f.remote, {group: f.group, markId, rvol: f.rvol, target: {kind: 'ldev', ldev: restored}});
  ctx.log('nbd-mark')(`logged ${writes} writes of 4 KiB (${seen.size} distinct blocks before mark ${markId}) and restored it in ${since(started).toFixed(2)} s`);
  // The servers open the site themselves; the bench lets go of it.
  closeSites(f);
  return {f, markId, restored, before, distinctBefore: seen.size};
}

/** The mark export of the fixture's R-VOL. */
export function startMarkExport(fx: MarkFixture, options: LaunchOptions = {}): Promise<NbdTarget> {
  const args = ['--group', String(fx.f.group), '--mark', String(fx.markId), '--rvol', String(fx.f.rvol)];
  return startServe(fx.f.remoteDir, args, String(fx.f.rvol), options);
}

/** The restored image of the same mark, a plain volume at the remote, served read-only. */
export function startRestored(fx: MarkFixture, options: LaunchOptions = {}): Promise<NbdTarget> {
  return startServe(fx.f.remoteDir, ['--vol', String(fx.restored), '--read-only'], String(fx.restored), options);
}

/** The check on the way: every byte of the mark export equals the restored image (nbdcopy, then SHA-256). */
function checkSame(fx: MarkFixture, mark: NbdTarget): void {
  const copy = path.join(fx.f.dir, 'mark-export.img');
  run('nbdcopy', [mark.uri, copy]);
  const [read, restored] = [sha256(copy), sha256(imageOf(fx.f.remote, fx.restored))];
  fs.rmSync(copy, {force: true});
  if (read !== restored) throw new Error(`the mark export (sha256 ${read}) differs from the restored image (${restored})`);
}

export async function nbdMarkRows(ctx: Context): Promise<RowResult[]> {
  const p = ctx.params;
  const rows = MARK_ROWS.filter(row => ctx.wants(row.name));
  if (rows.length === 0) return [];
  const fx = await markFixture(ctx);
  const out: RowResult[] = [];
  const targets: NbdTarget[] = [];
  try {
    const mark = await startMarkExport(fx);
    targets.push(mark);
    const restored = await startRestored(fx);
    targets.push(restored);
    checkSame(fx, mark);
    for (const row of rows) {
      const started = now();
      const job = markJob(p, row.job);
      const {sides, unit, timing} = await pairedFio(p, ctx.log(row.name), job, {marklog: mark.uri, baseline: restored.uri});
      out.push(makeRow({
        n: row.n, name: row.name, figure: row.figure, unit,
        marklog: series(`fio --ioengine=nbd through marklog serve --group ${fx.f.group} --mark ${fx.markId} (base + log)`, sides.marklog),
        baseline: series('the same fio job through marklog serve --vol N --read-only of that mark restored to an LDEV', sides.baseline),
        target: {op: '>=', value: TARGET},
        detail: {
          fio: {...job, fsync: 0}, volumeBytes: p.nbdVolMib * MiB,
          loggedWrites: p.nbdMarkWrites, writesBeforeMark: fx.before, distinctBlocksBeforeMark: fx.distinctBefore,
          ...timing,
        },
      }, since(started)));
    }
  } finally {
    for (const target of targets) await target.stop();
    ctx.cleanup(fx.f.dir);
  }
  return out;
}
