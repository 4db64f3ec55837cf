// Row 14: a restore to a mark a quarter into the log against a restore to the last
// mark of the same log (issue 13): the early one should read only the log up to
// its mark. A sparse base (no data), so that copying the base, which both pay, does
// not hide what the log costs; 4,096 records of 64 KiB on distinct blocks.
import fs from 'node:fs';
import path from 'node:path';
import {hostWrite} from '../../src/io/host-io.js';
import {issueMark} from '../../src/mark/mark.js';
import {restoreToMark} from '../../src/restore/restore.js';
import {closeSites, loggingFixture, uniqueBlocks} from '../lib/fixtures.js';
import {now, runPaired, since, timedAsync} from '../lib/measure.js';
import {MiB} from '../lib/params.js';
import {makeRow, series, type RowResult} from '../lib/result.js';
import type {Context} from '../lib/context.js';

export async function restoreEarly(ctx: Context): Promise<RowResult> {
  const p = ctx.params;
  const started = now();
  const {blockSize, capacity, records, blocks, pool} = uniqueBlocks(p, 0x0e41);
  const f = await loggingFixture(ctx.root, 'restore-early', capacity, 4096 + records * (blockSize + 128) * 1.2 + MiB);
  const marks: number[] = [];
  for (const [i, block] of blocks.entries()) {
    const at = (i * 4096) % (pool.length - blockSize);
    await hostWrite(f.primary, f.mvol, block * blockSize, pool.subarray(at, at + blockSize));
    if (i + 1 === Math.floor(records / 4) || i + 1 === records) marks.push((await issueMark(f.primary, {group: f.group, app: 'bench'})).markId);
  }
  const [early, last] = marks;
  const restoreTo = async (markId: number, file: string) => {
    fs.rmSync(file, {force: true});
    const seconds = await timedAsync(async () => {
      await restoreToMark(f.remote, {group: f.group, markId, target: {kind: 'file', path: file}});
    });
    fs.rmSync(file, {force: true});
    return seconds;
  };
  const sides = await runPaired({
    warmup: p.warmup, repeat: p.repeat, settle: p.settle, log: ctx.log('restore-early'),
    marklog: () => restoreTo(early, path.join(f.dir, 'early.img')),
    baseline: () => restoreTo(last, path.join(f.dir, 'last.img')),
  });
  closeSites(f);
  ctx.cleanup(f.dir);
  return makeRow({
    n: 14, name: 'restore-early', figure: 'restore to a mark ¼ into the log, against one to its last mark', unit: 's',
    marklog: series(`restoreToMark to the mark after ${Math.floor(records / 4)} of ${records} records of ${p.recordKib} KiB (sparse ${p.uniqueVolMib} MiB base)`, sides.marklog),
    baseline: series('restoreToMark to the last mark of the same log', sides.baseline),
    target: {op: '<=', value: 0.35},
    detail: {records, earlyAfter: Math.floor(records / 4)},
  }, since(started));
}
