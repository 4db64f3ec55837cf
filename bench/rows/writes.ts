// Rows 1-3: host writes through the library API against raw pwrite of the same bytes
// to two files: the least any replicated write costs. The figure is the long-lived
// writer (HostWriter: what a block-device front end uses); the same writes sent one
// hostWrite call at a time (each taking and dropping the locks, as the CLI's
// `write` does) are measured too and reported beside it.
import fs from 'node:fs';
import path from 'node:path';
import {hostWrite} from '../../src/io/host-io.js';
import {HostWriter} from '../../src/io/host-writer.js';
import type {Site} from '../../src/site/site.js';
import {createPair} from '../../src/pair/pair-create.js';
import {closeSites, loggingFixture, randomPool, reopen, roundUp, twoSites, volume, type LoggingFixture} from '../lib/fixtures.js';
import {now, prng, runPaired, since, timedAsync} from '../lib/measure.js';
import {MiB} from '../lib/params.js';
import {makeRow, rates, series, type RowResult} from '../lib/result.js';
import type {Context} from '../lib/context.js';

const KiB4 = 4096;
/** Log bytes one record of `size` data bytes takes (32 B header + 16 B write header, 8-aligned). */
const recordBytes = (size: number) => roundUp(32 + 16 + size, 8);

/** Sends `count` writes through one HostWriter, releasing its locks at the end (timed). */
async function throughWriter(site: Site, ldev: number, count: number, offset: (i: number) => number, data: (i: number) => Uint8Array): Promise<number> {
  const t = now();
  const writer = new HostWriter(site);
  for (let i = 0; i < count; i++) await writer.write(ldev, offset(i), data(i));
  writer.release();
  return since(t);
}

/**
 * The same writes one hostWrite call at a time, once (reported, not held to the
 * target): one run, so the extra data written does not push the rows after it into
 * this machine's slower writeback regime.
 */
function oneCallAtATime(site: Site, ldev: number, count: number, offset: (i: number) => number, data: (i: number) => Uint8Array): Promise<number> {
  return timedAsync(async () => {
    for (let i = 0; i < count; i++) await hostWrite(site, ldev, offset(i), data(i));
  });
}

/** Two sparse files of `capacity`, opened for pwrite: the baseline's "volume" and its second copy. */
function rawFiles(dir: string, names: string[], capacity: number): number[] {
  return names.map(name => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, '');
    fs.truncateSync(file, capacity);
    return fs.openSync(file, 'r+');
  });
}

export async function pairWrite(ctx: Context): Promise<RowResult> {
  const p = ctx.params;
  const started = now();
  const bytes = p.writeMib * MiB;
  const sites = await twoSites(ctx.root, 'pair-write');
  const mvol = volume(sites.primary, bytes);
  const rvol = volume(sites.remote, bytes);
  const {pair, state} = await createPair(sites.primary, {mvol, rvol});
  if (state !== 'PAIR') throw new Error(`pair ${pair} is ${state} after create`);
  reopen(sites);
  const pool = randomPool(16 * MiB);
  const slice = (i: number) => pool.subarray((i % 16) * MiB, (i % 16 + 1) * MiB);
  const count = p.writeMib;
  const [fdA, fdB] = rawFiles(sites.dir, ['raw-a.img', 'raw-b.img'], bytes);
  const sides = await runPaired({
    warmup: p.warmup, repeat: p.repeat, settle: p.settle, log: ctx.log('pair-write'),
    marklog: () => throughWriter(sites.primary, mvol, count, i => i * MiB, slice),
    baseline: () => {
      const t = now();
      for (let i = 0; i < count; i++) {
        fs.writeSync(fdA, slice(i), 0, MiB, i * MiB);
        fs.writeSync(fdB, slice(i), 0, MiB, i * MiB);
      }
      return since(t);
    },
  });
  const perCall = await oneCallAtATime(sites.primary, mvol, count, i => i * MiB, slice);
  fs.closeSync(fdA);
  fs.closeSync(fdB);
  closeSites(sites);
  ctx.cleanup(sites.dir);
  return makeRow({
    n: 1, name: 'pair-write', figure: 'host writes, PAIR mode, 1 MiB sequential (HostWriter)', unit: 'MiB/s',
    marklog: series(`HostWriter.write of ${p.writeMib} × 1 MiB to an M-VOL in PAIR`, rates(p.writeMib, sides.marklog)),
    baseline: series('pwrite of the same bytes to two files', rates(p.writeMib, sides.baseline)),
    target: {op: '>=', value: 0.8},
    detail: {bytesPerRep: bytes, writesPerRep: count, hostWritePerCallRate: count / perCall},
  }, since(started));
}

/** The log-mode fixture shared by rows 2 and 3: one log big enough for every repetition of both. */
export class LogWriteFixture {
  readonly f: LoggingFixture;
  readonly capacity: number;
  private logFd: number;
  private logPos = 0;
  readonly volFd: number;

  private constructor(f: LoggingFixture, capacity: number) {
    this.f = f;
    this.capacity = capacity;
    this.volFd = rawFiles(this.f.dir, ['raw-vol.img'], this.capacity)[0];
    this.logFd = rawFiles(this.f.dir, ['raw-log.img'], 0)[0];
  }

  static async create(ctx: Context): Promise<LogWriteFixture> {
    const p = ctx.params;
    // Every marklog repetition, plus the one-call-at-a-time run, goes to this log.
    const runs = p.warmup + p.repeat + 1;
    const capacity = Math.max(p.writeMib, p.randomVolMib) * MiB;
    let logData = 0;
    if (ctx.wants('log-write-seq')) logData += runs * p.writeMib * recordBytes(MiB);
    if (ctx.wants('log-write-rand')) logData += runs * p.randomOps * recordBytes(KiB4);
    // Stay under the 80 % alert threshold: an alert is a tables write, not a write-path cost.
    return new LogWriteFixture(await loggingFixture(ctx.root, 'log-write', capacity, 4096 + logData * 1.3 + MiB), capacity);
  }

  /** Baseline append to the raw log file (sequential, never rewritten, like the marklog log). */
  append(data: Uint8Array): void {
    fs.writeSync(this.logFd, data, 0, data.length, this.logPos);
    this.logPos += recordBytes(data.length);
  }

  close(ctx: Context): void {
    fs.closeSync(this.volFd);
    fs.closeSync(this.logFd);
    closeSites(this.f);
    ctx.cleanup(this.f.dir);
  }
}

export async function logWriteSeq(ctx: Context, fx: LogWriteFixture): Promise<RowResult> {
  const p = ctx.params;
  const started = now();
  const pool = randomPool(16 * MiB);
  const slice = (i: number) => pool.subarray((i % 16) * MiB, (i % 16 + 1) * MiB);
  const count = p.writeMib;
  const sides = await runPaired({
    warmup: p.warmup, repeat: p.repeat, settle: p.settle, log: ctx.log('log-write-seq'),
    marklog: () => throughWriter(fx.f.primary, fx.f.mvol, count, i => i * MiB, slice),
    baseline: () => {
      const t = now();
      for (let i = 0; i < count; i++) {
        fs.writeSync(fx.volFd, slice(i), 0, MiB, i * MiB);
        fx.append(slice(i));
      }
      return since(t);
    },
  });
  const perCall = await oneCallAtATime(fx.f.primary, fx.f.mvol, count, i => i * MiB, slice);
  return makeRow({
    n: 2, name: 'log-write-seq', figure: 'host writes, log mode, 1 MiB sequential (HostWriter)', unit: 'MiB/s',
    marklog: series(`HostWriter.write of ${count} × 1 MiB, each also a log record`, rates(count, sides.marklog)),
    baseline: series('pwrite to a volume file + append to a log file', rates(count, sides.baseline)),
    target: {op: '>=', value: 0.8},
    detail: {bytesPerRep: count * MiB, hostWritePerCallRate: count / perCall},
  }, since(started));
}

export async function logWriteRand(ctx: Context, fx: LogWriteFixture): Promise<RowResult> {
  const p = ctx.params;
  const started = now();
  const pool = randomPool(4 * MiB);
  const blocks = fx.capacity / KiB4;
  const random = prng(0x5eed);
  const offsets = Array.from({length: p.randomOps}, () => Math.floor(random() * blocks) * KiB4);
  const slice = (i: number) => pool.subarray((i * KiB4) % pool.length, (i * KiB4) % pool.length + KiB4);
  const sides = await runPaired({
    warmup: p.warmup, repeat: p.repeat, settle: p.settle, log: ctx.log('log-write-rand'),
    marklog: () => throughWriter(fx.f.primary, fx.f.mvol, offsets.length, i => offsets[i], slice),
    baseline: () => {
      const t = now();
      for (let i = 0; i < offsets.length; i++) {
        fs.writeSync(fx.volFd, slice(i), 0, KiB4, offsets[i]);
        fx.append(slice(i));
      }
      return since(t);
    },
  });
  const perCall = await oneCallAtATime(fx.f.primary, fx.f.mvol, offsets.length, i => offsets[i], slice);
  return makeRow({
    n: 3, name: 'log-write-rand', figure: 'host writes, log mode, 4 KiB random (HostWriter)', unit: 'ops/s',
    marklog: series(`HostWriter.write of ${p.randomOps} × 4 KiB at random offsets`, rates(p.randomOps, sides.marklog)),
    baseline: series('4 KiB pwrite to a volume file + append to a log file', rates(p.randomOps, sides.baseline)),
    target: {op: '>=', value: 0.6},
    detail: {opsPerRep: p.randomOps, volumeBytes: fx.capacity, hostWritePerCallRate: p.randomOps / perCall,
      marklogMicrosPerOp: series('µs per op', sides.marklog.map(s => s / p.randomOps * 1e6)).median,
      baselineMicrosPerOp: series('µs per op', sides.baseline.map(s => s / p.randomOps * 1e6)).median},
  }, since(started));
}
