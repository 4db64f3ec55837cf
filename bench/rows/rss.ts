// Row 10: peak RSS of a restore of a large sparse volume with a big log, measured
// in a child process (GNU time -v when present, and the child's own getrusage).
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {hostWrite} from '../../src/io/host-io.js';
import {issueMark} from '../../src/mark/mark.js';
import {closeSites, loggingFixture, randomPool, type LoggingFixture} from '../lib/fixtures.js';
import {now, pickDistinct, prng, runSingle, since, yieldLoop} from '../lib/measure.js';
import {GiB, MiB, ROOT} from '../lib/params.js';
import {makeRow, series, type RowResult} from '../lib/result.js';
import type {Context} from '../lib/context.js';

const CHILD = path.join(ROOT, 'dist', 'bench', 'rss-child.js');
const GNU_TIME = '/usr/bin/time';

interface ChildReport {
  maxRssKiB: number;
  seconds: number;
  statusKiB: Record<string, number>;
  external: number;
  arrayBuffers: number;
  timeMaxRssKiB?: number;
}

function runChild(job: object): ChildReport {
  const useTime = fs.existsSync(GNU_TIME);
  const args = [process.execPath, CHILD, JSON.stringify(job)];
  const child = useTime
    ? spawnSync(GNU_TIME, ['-v', ...args], {encoding: 'utf8'})
    : spawnSync(args[0], args.slice(1), {encoding: 'utf8'});
  if (child.status !== 0) throw new Error(`rss child exited ${child.status}: ${child.stderr}`);
  const report = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as ChildReport;
  const fromTime = /Maximum resident set size \(kbytes\): (\d+)/.exec(child.stderr);
  if (fromTime) report.timeMaxRssKiB = Number(fromTime[1]);
  return report;
}

/** The peak as GNU time saw it, else as the child saw it; MiB. */
const peakMiB = (r: ChildReport) => (r.timeMaxRssKiB ?? r.maxRssKiB) / 1024;

interface Measured {
  volumeGiB: number;
  peaks: number[];
  seconds: number[];
  last: ChildReport;
}

async function measure(ctx: Context, name: string, volumeGiB: number, logMib: number, blockSize: number): Promise<Measured> {
  const p = ctx.params;
  const capacity = volumeGiB * GiB;
  const records = Math.floor(logMib * MiB / blockSize);
  const f: LoggingFixture = await loggingFixture(ctx.root, name, capacity, 4096 + records * (blockSize + 48) * 1.3 + MiB);
  const pool = randomPool(32 * MiB);
  const random = prng(0x4e55 + volumeGiB);
  const setup = now();
  for (const [i, block] of pickDistinct(capacity / blockSize, records, random).entries()) {
    const at = (i * 4096) % (pool.length - blockSize);
    await hostWrite(f.primary, f.mvol, block * blockSize, pool.subarray(at, at + blockSize));
    if (i % 256 === 255) await yieldLoop();
  }
  const {markId} = await issueMark(f.primary, {group: f.group, app: 'bench'});
  closeSites(f);
  ctx.log(name)(`logged ${records} records over ${volumeGiB} GiB in ${since(setup).toFixed(1)} s`);
  const target = path.join(f.dir, 'restored.img');
  const reports: ChildReport[] = [];
  const seconds = await runSingle({
    // Each run is a fresh process: there is nothing to warm up.
    warmup: 0, repeat: p.rssRepeat, settle: p.settle, log: ctx.log(name),
    prepare: () => fs.rmSync(target, {force: true}),
    work: () => {
      const report = runChild({remoteDir: f.remoteDir, group: f.group, markId, target});
      reports.push(report);
      ctx.log(name)(`peak RSS ${peakMiB(report).toFixed(1)} MiB (${JSON.stringify(report.statusKiB)})`);
      return report.seconds;
    },
  });
  ctx.cleanup(f.dir);
  const measured = reports;
  return {volumeGiB, peaks: measured.map(peakMiB), seconds, last: measured.at(-1)!};
}

export async function restoreRss(ctx: Context): Promise<RowResult> {
  const p = ctx.params;
  const started = now();
  const blockSize = p.recordKib * 1024;
  const idle = runChild({idle: true, remoteDir: '', group: 0, markId: 0, target: ''});
  const big = await measure(ctx, 'restore-rss', p.rssVolGib, p.rssLogMib, blockSize);
  const smallGiB = p.rssScaleDown > 0 ? Math.max(1, Math.floor(p.rssVolGib / p.rssScaleDown)) : 0;
  const small = smallGiB > 0 && smallGiB < p.rssVolGib ? await measure(ctx, 'restore-rss-small', smallGiB, p.rssLogMib, blockSize) : undefined;
  // And the same volume with a log N times smaller: what the peak does follow.
  const smallLogMib = p.rssScaleDown > 0 ? Math.floor(p.rssLogMib / p.rssScaleDown) : 0;
  const smallLog = smallLogMib >= 1 ? await measure(ctx, 'restore-rss-small-log', p.rssVolGib, smallLogMib, blockSize) : undefined;
  return makeRow({
    n: 10, name: 'restore-rss', figure: `peak RSS, restore of a ${p.rssVolGib} GiB sparse volume with a ${p.rssLogMib} MiB log`, unit: 'MiB',
    marklog: series(`peak RSS of a child running restoreToMark to a new file (${GNU_TIME} -v)`, big.peaks),
    baseline: series('peak RSS of the same child that only loads the modules (reference, not a target)', [peakMiB(idle)]),
    checked: 'value',
    target: {op: '<=', value: 256},
    detail: {
      restoreSeconds: series('restore time in the child', big.seconds),
      records: Math.floor(p.rssLogMib * MiB / blockSize),
      lastChild: big.last,
      smallerVolume: small && {volumeGiB: small.volumeGiB, logMib: p.rssLogMib, peakMiB: series(`peak RSS at ${small.volumeGiB} GiB`, small.peaks), restoreSeconds: series('s', small.seconds), lastChild: small.last},
      smallerLog: smallLog && {volumeGiB: p.rssVolGib, logMib: smallLogMib, peakMiB: series(`peak RSS with a ${smallLogMib} MiB log`, smallLog.peaks), restoreSeconds: series('s', smallLog.seconds), lastChild: smallLog.last},
    },
  }, since(started));
}
