// Rows 7-8: restore to a mark into a new file. Row 7: an overwrite-heavy log
// against a naive in-order replay of the same records (written here, with the
// project's own log reader). Row 8: a log of unique blocks against `cp` of the
// base plus one sequential write of the log's data bytes. Every side ends with
// fdatasync of its output, as restoreToMark does.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {hostWrite} from '../../src/io/host-io.js';
import {issueMark} from '../../src/mark/mark.js';
import {restoreToMark} from '../../src/restore/restore.js';
import {Journal} from '../../src/log/journal.js';
import {findGroup} from '../../src/log/remote-log.js';
import {closeSites, fillImage, imageOf, loggingFixture, randomPool, sha256, uniqueBlocks, type LoggingFixture} from '../lib/fixtures.js';
import {now, pickDistinct, prng, runPaired, runSingle, shuffle, since, timed, timedAsync} from '../lib/measure.js';
import {MiB} from '../lib/params.js';
import {makeRow, series, type RowResult} from '../lib/result.js';
import type {Context} from '../lib/context.js';

interface Logged {
  f: LoggingFixture;
  markId: number;
  markLogId: number;
  records: number;
  dataBytes: number;
}

/** A log-mode pair over a dense base, host writes of `blockSize` at the given block numbers, then a mark. */
async function buildLog(ctx: Context, name: string, capacity: number, blockSize: number, blocks: number[], pool: Buffer): Promise<Logged> {
  const logBytes = blocks.length * (blockSize + 48);
  const f = await loggingFixture(ctx.root, name, capacity, 4096 + logBytes * 1.3 + MiB, image => fillImage(image, capacity, pool));
  const started = now();
  for (const [i, block] of blocks.entries()) {
    const at = (i * 4096) % (pool.length - blockSize);
    const data = pool.subarray(at, at + blockSize);
    data.writeUInt32LE(i, 0);
    await hostWrite(f.primary, f.mvol, block * blockSize, data);
  }
  const mark = await issueMark(f.primary, {group: f.group, app: 'bench'});
  ctx.log(name)(`logged ${blocks.length} records in ${since(started).toFixed(2)} s`);
  return {f, markId: mark.markId, markLogId: mark.logId, records: blocks.length, dataBytes: blocks.length * blockSize};
}

/** One pass of the log reader over every record before the mark, writing nothing: the floor of any validated restore. */
function readerPass(logged: Logged): number {
  const {f, markLogId} = logged;
  return timed(() => {
    f.remote.lock.run(() => {
      const tables = f.remote.tables();
      const journal = Journal.open(f.remote, tables, findGroup(f.remote, tables, f.group));
      for (const {record} of journal.records(undefined, {streaming: true})) if (record.logId >= markLogId) break;
    });
  });
}

/** Copy of the base alone (the other part every restore to a new file pays). */
function cloneAndSync(logged: Logged, target: string): number {
  const base = imageOf(logged.f.remote, logged.f.rvol);
  fs.rmSync(target, {force: true});
  const s = timed(() => {
    fs.copyFileSync(base, target);
    const fd = fs.openSync(target, 'r+');
    fs.fdatasyncSync(fd);
    fs.closeSync(fd);
  });
  fs.rmSync(target, {force: true});
  return s;
}

function restoreSide(logged: Logged, target: string): Promise<number> {
  const {f, markId} = logged;
  fs.rmSync(target, {force: true});
  return timedAsync(async () => {
    await restoreToMark(f.remote, {group: f.group, markId, target: {kind: 'file', path: target}});
  });
}

/** The naive restore: copy the base, then every write record before the mark, in log order, with pwrite (written as each record is read). */
function naiveReplay(logged: Logged, target: string): number {
  const {f, markLogId} = logged;
  const base = imageOf(f.remote, f.rvol);
  fs.rmSync(target, {force: true});
  return timed(() => {
    fs.copyFileSync(base, target);
    const fd = fs.openSync(target, 'r+');
    try {
      f.remote.lock.run(() => {
        const tables = f.remote.tables();
        const journal = Journal.open(f.remote, tables, findGroup(f.remote, tables, f.group));
        // The same reader as marklog's restore (streaming through one buffer): only coalescing differs.
        for (const {record} of journal.records(undefined, {streaming: true})) {
          if (record.logId >= markLogId) break;
          if (record.kind !== 'write' || record.ldev !== f.rvol) continue;
          fs.writeSync(fd, record.data, 0, record.data.length, record.address);
        }
      });
      fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  });
}

export async function restoreOverwrite(ctx: Context): Promise<RowResult> {
  const p = ctx.params;
  const started = now();
  const blockSize = p.recordKib * 1024;
  const capacity = p.overwriteVolMib * MiB;
  const records = Math.floor(p.overwriteLogMib * MiB / blockSize);
  const hot = Math.max(1, Math.ceil(records / p.overwrites));
  const random = prng(0x0e11);
  const hotBlocks = pickDistinct(capacity / blockSize, hot, random);
  const sequence = shuffle(Array.from({length: records}, (_, i) => hotBlocks[i % hot]), random);
  const pool = randomPool(32 * MiB);
  const logged = await buildLog(ctx, 'restore-overwrite', capacity, blockSize, sequence, pool);
  const mine = path.join(logged.f.dir, 'restored.img');
  const naive = path.join(logged.f.dir, 'naive.img');
  const hashes: {marklog?: string; baseline?: string} = {};
  const sides = await runPaired({
    warmup: p.warmup, repeat: p.repeat, settle: p.settle, log: ctx.log('restore-overwrite'),
    marklog: async () => {
      const s = await restoreSide(logged, mine);
      hashes.marklog ??= sha256(mine);
      fs.rmSync(mine, {force: true});
      return s;
    },
    baseline: () => {
      const s = naiveReplay(logged, naive);
      hashes.baseline ??= sha256(naive);
      fs.rmSync(naive, {force: true});
      return s;
    },
  });
  const reader = await runSingle({warmup: 1, repeat: p.repeat, settle: false, work: () => readerPass(logged)});
  const clone = await runSingle({warmup: 0, repeat: p.repeat, settle: p.settle, work: () => cloneAndSync(logged, naive)});
  closeSites(logged.f);
  ctx.cleanup(logged.f.dir);
  return makeRow({
    n: 7, name: 'restore-overwrite', figure: `restore to a mark, overwrite-heavy log (each block ×${p.overwrites})`, unit: 's',
    marklog: series(`restoreToMark to a new file: ${p.overwriteVolMib} MiB base, ${records} records of ${p.recordKib} KiB on ${hot} blocks`, sides.marklog),
    baseline: series('naive replay: copy base, pwrite every record in log order (Journal.records)', sides.baseline),
    target: {op: '<=', value: 0.35},
    detail: {records, hotBlocks: hot, logDataBytes: logged.dataBytes, finalDistinctBytes: hot * blockSize,
      sameOutput: hashes.marklog !== undefined && hashes.marklog === hashes.baseline,
      readerPassSeconds: series('one Journal.records pass to the mark, nothing written (log in page cache)', reader),
      cloneSyncSeconds: series('copy of the base + fdatasync, nothing replayed', clone)},
  }, since(started));
}

export async function restoreUnique(ctx: Context): Promise<RowResult> {
  const p = ctx.params;
  const started = now();
  const {blockSize, capacity, records, blocks, pool} = uniqueBlocks(p, 0x0417);
  const logged = await buildLog(ctx, 'restore-unique', capacity, blockSize, blocks, pool);
  const base = imageOf(logged.f.remote, logged.f.rvol);
  const mine = path.join(logged.f.dir, 'restored.img');
  const copy = path.join(logged.f.dir, 'cp.img');
  const sides = await runPaired({
    warmup: p.warmup, repeat: p.repeat, settle: p.settle, log: ctx.log('restore-unique'),
    marklog: async () => {
      const s = await restoreSide(logged, mine);
      fs.rmSync(mine, {force: true});
      return s;
    },
    baseline: () => {
      fs.rmSync(copy, {force: true});
      const s = timed(() => {
        const cp = spawnSync('cp', [base, copy], {stdio: 'ignore'});
        if (cp.status !== 0) throw new Error(`cp exited ${cp.status}`);
        const fd = fs.openSync(copy, 'r+');
        try {
          for (let i = 0; i < records; i++) {
            const at = (i * 4096) % (pool.length - blockSize);
            fs.writeSync(fd, pool, at, blockSize, i * blockSize);
          }
          fs.fdatasyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
      });
      fs.rmSync(copy, {force: true});
      return s;
    },
  });
  const reader = await runSingle({warmup: 1, repeat: p.repeat, settle: false, work: () => readerPass(logged)});
  const clone = await runSingle({warmup: 0, repeat: p.repeat, settle: p.settle, work: () => cloneAndSync(logged, copy)});
  closeSites(logged.f);
  ctx.cleanup(logged.f.dir);
  return makeRow({
    n: 8, name: 'restore-unique', figure: 'restore to a mark, log of unique blocks, to a new file', unit: 's',
    marklog: series(`restoreToMark to a new file: ${p.uniqueVolMib} MiB dense base, ${records} unique records of ${p.recordKib} KiB`, sides.marklog),
    baseline: series('cp of the base + sequential pwrite of the log data bytes + fdatasync', sides.baseline),
    target: {op: '<=', value: 1.3},
    detail: {records, logDataBytes: logged.dataBytes, baseBytes: capacity,
      readerPassSeconds: series('one Journal.records pass to the mark, nothing written (log in page cache)', reader),
      cloneSyncSeconds: series('copy of the base + fdatasync, nothing replayed', clone)},
  }, since(started));
}
