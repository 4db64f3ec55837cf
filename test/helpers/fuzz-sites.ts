// A real log built through the library (no CLI, so it is fast enough to fuzz):
// two sites, one pair, a log group, host writes and marks, with a model of the
// M-VOL at every mark. Variants: a plain log, a wrapped ring, and a log spread over
// two log volumes. Also a snapshot/reset of whole site directories, so a fuzz case
// can damage files and the next case starts from the same bytes.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {ExecutionContext} from 'ava';
import {initSite, linkSites} from '../../src/site/site-admin.js';
import {Site} from '../../src/site/site.js';
import {closeLink} from '../../src/site/link-opener.js';
import {createVolume} from '../../src/volume/volume-admin.js';
import {createPair} from '../../src/pair/pair-create.js';
import {startLogging} from '../../src/log/log-start.js';
import {hostWrite} from '../../src/io/host-io.js';
import {issueMark} from '../../src/mark/mark.js';
import {applyLog} from '../../src/log/apply.js';
import {extendLog, logStatus} from '../../src/log/log-admin.js';
import {Rng} from './fuzz.js';
import {liveRanges, specCurrentHeader, walkLog, type SpecRecord} from './log-spec.js';

export type LogShape = 'plain' | 'wrapped' | 'two-volumes';

export interface LogVolumeFile {
  ldev: number;
  file: string;
  pristine: Buffer;
  records: SpecRecord[];
  ranges: {from: number; to: number}[];
  /** The slot (0 or 1) holding the current header. */
  headerSlot: number;
}

export interface FuzzLog {
  root: string;
  primary: string;
  remote: string;
  group: number;
  mvol: number;
  rvol: number;
  capacity: number;
  /** Log volumes in fill order, with their pristine bytes and records (read by the independent walker). */
  logVolumes: LogVolumeFile[];
  /** Every record in log order across the volumes. */
  records: (SpecRecord & {volume: number})[];
  /** Marks still in the log, in log order, with the M-VOL as the host had it at the mark. */
  marks: {markId: number; logId: number; volume: number; offset: number; size: number; expected: Buffer}[];
  /** The R-VOL (the base) as it is now. */
  base: Buffer;
  rvolFile: string;
}

export function scratchDir(t: ExecutionContext, prefix = 'marklog-fuzz-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));
  return dir;
}

async function withSites<T>(dirs: string[], work: (...sites: Site[]) => T | Promise<T>): Promise<T> {
  const sites = dirs.map(dir => Site.open(dir));
  try {
    return await work(...sites);
  } finally {
    for (const site of sites) {
      closeLink(site);
      site.close();
    }
  }
}

const VOLUME = 256 * 1024;

/**
 * Builds the log. `seed` decides the writes (offsets, lengths, data) and the app names,
 * so a failing fuzz seed rebuilds the same log.
 */
/** Settles when the last log build has: builds go one at a time, each with its own MARKLOG_LOG_FORMAT. */
let building: Promise<unknown> = Promise.resolve();

export function buildLog(t: ExecutionContext, shape: LogShape, seed: number, version: 1 | 2 = 1): Promise<FuzzLog> {
  const built = building.then(async () => {
    // The log's format is chosen when its volumes are formatted (MARKLOG_LOG_FORMAT, OPERATING.md).
    const saved = process.env.MARKLOG_LOG_FORMAT;
    process.env.MARKLOG_LOG_FORMAT = String(version);
    try {
      return await buildLogOf(t, shape, seed);
    } finally {
      if (saved === undefined) delete process.env.MARKLOG_LOG_FORMAT;
      else process.env.MARKLOG_LOG_FORMAT = saved;
    }
  });
  building = built.catch(() => undefined);
  return built;
}

async function buildLogOf(t: ExecutionContext, shape: LogShape, seed: number): Promise<FuzzLog> {
  const began = Date.now();
  const rng = new Rng(seed, 0x5eed);
  const root = scratchDir(t);
  const primary = path.join(root, 'primary');
  const remote = path.join(root, 'remote');
  initSite({dir: primary, role: 'primary'});
  initSite({dir: remote, role: 'remote'});
  await linkSites(primary, remote);
  const logCapacity = shape === 'plain' ? 160 * 1024 : shape === 'wrapped' ? 64 * 1024 : 32 * 1024;

  const host = rng.bytes(VOLUME);
  const model = Buffer.from(host);
  const atMark = new Map<number, Buffer>();
  const {mvol, rvol, group} = await withSites([primary, remote], async (p, r) => {
    const mvol = createVolume(p, VOLUME).ldev;
    const rvol = createVolume(r, VOLUME).ldev;
    await hostWrite(p, mvol, 0, host);
    const pair = (await createPair(p, {mvol, rvol, chunkSize: 4096})).pair;
    createVolume(r, logCapacity, true);
    if (shape === 'two-volumes') createVolume(r, logCapacity, true);
    const group = (await startLogging(p, {pairs: [pair], group: 1})).group;
    return {mvol, rvol, group};
  });

  const free = () => withSites([remote], r => logStatus(r, group).groups[0].usage.free);
  const apps = ['db', 'oracle-prod', 'café', 'ログ', '🦀 backup', 'x'.repeat(255), 'a b c'];
  let writes = 0;
  const writeSome = async (count: number, maxLength: number) => {
    for (let i = 0; i < count; i++) {
      const length = rng.range(1, maxLength);
      if (await free() < length + 64 + 512) return false;
      const offset = rng.int(VOLUME - length);
      const data = rng.chance(0.2) ? Buffer.alloc(length, rng.int(256)) : rng.bytes(length);
      await withSites([primary], p => hostWrite(p, mvol, offset, data));
      data.copy(model, offset);
      writes++;
      if (rng.chance(0.3)) await mark();
    }
    return true;
  };
  const mark = async () => {
    if (await free() < 512) return;
    const result = await withSites([primary], p => issueMark(p, {group, app: rng.pick(apps)}));
    atMark.set(result.markId, Buffer.from(model));
  };

  if (shape === 'plain') {
    await mark();
    await writeSome(40, 3000);
    await mark();
  } else if (shape === 'wrapped') {
    await writeSome(18, 2500);
    await mark();
    const applyTo = [...atMark.keys()][Math.floor(atMark.size / 2)] ?? [...atMark.keys()].at(-1)!;
    await withSites([remote], r => applyLog(r, group, {markId: applyTo}));
    for (const id of [...atMark.keys()]) if (id < applyTo) atMark.delete(id);
    // Fill past the end of the volume so the ring wraps to the front.
    for (let round = 0; round < 40 && !await wrapped(remote, group); round++) await writeSome(1, 2500);
    await writeSome(3, 1200);
    await mark();
    if (!await wrapped(remote, group)) throw new Error('fixture: the log did not wrap');
  } else {
    await withSites([remote], r => extendLog(r, group));
    await mark();
    for (let round = 0; round < 60 && !await usesSecondVolume(remote, group); round++) await writeSome(1, 2000);
    await writeSome(4, 1500);
    await mark();
    if (!await usesSecondVolume(remote, group)) throw new Error('fixture: the log did not reach its second volume');
  }

  const tables = JSON.parse(fs.readFileSync(path.join(remote, 'tables.json'), 'utf8'));
  const row = tables.groups.find((g: {group: number}) => g.group === group);
  const imageOf = (ldev: number) => path.join(remote, tables.volumes.find((v: {ldev: number}) => v.ldev === ldev).image);
  const logVolumes: LogVolumeFile[] = row.logVolumes.map((ldev: number) => {
    const file = imageOf(ldev);
    const pristine = fs.readFileSync(file);
    const walked = walkLog(pristine);
    return {ldev, file, pristine, records: walked.records, ranges: liveRanges(walked.header), headerSlot: walked.header.slot};
  });
  const records = logVolumes.flatMap((v, volume) => v.records.map(r => ({...r, volume})));
  for (let i = 1; i < records.length; i++) {
    if (records[i].logId <= records[i - 1].logId) throw new Error('fixture: log IDs are not increasing');
  }
  const marks = records.filter(r => r.kind === 'mark').map(r => {
    const expected = atMark.get(r.markId!);
    if (!expected) throw new Error(`fixture: mark ${r.markId} is in the log but the host has no model of it`);
    return {markId: r.markId!, logId: r.logId, volume: r.volume, offset: r.offset, size: r.size, expected};
  });
  if (marks.length < 2) throw new Error('fixture: fewer than two marks in the log');
  const rvolFile = imageOf(rvol);
  t.log(`fixture ${shape} (${Date.now() - began} ms): ${writes} writes, ${records.length} records in ${logVolumes.length} log volume(s), marks ${marks.map(m => m.markId).join(',')}`);
  return {root, primary, remote, group, mvol, rvol, capacity: VOLUME, logVolumes, records, marks, base: fs.readFileSync(rvolFile), rvolFile};
}

function wrapped(remote: string, group: number): Promise<boolean> {
  return withSites([remote], r => {
    const tables = r.tables();
    const row = tables.groups.find(g => g.group === group)!;
    const header = specCurrentHeader(fs.readFileSync(r.path(tables.volumes.find(v => v.ldev === row.logVolumes[0])!.image)));
    return header.ok && header.wrap !== 0;
  });
}

function usesSecondVolume(remote: string, group: number): Promise<boolean> {
  return withSites([remote], r => logStatus(r, group).groups[0].logVolumes.filter(v => v.records > 0).length >= 2);
}

/** Every file under `dir` (path → bytes), to put a site back between fuzz cases. */
export function snapshotFiles(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (at: string) => {
    for (const entry of fs.readdirSync(at, {withFileTypes: true})) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.set(full, fs.readFileSync(full));
    }
  };
  walk(dir);
  return out;
}

/** Puts `dir` back to the snapshot: rewrites changed files and removes new ones. */
export function resetFiles(dir: string, snapshot: Map<string, Buffer>): void {
  const walk = (at: string) => {
    for (const entry of fs.readdirSync(at, {withFileTypes: true})) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (!snapshot.has(full)) fs.rmSync(full, {force: true});
    }
  };
  walk(dir);
  for (const [file, bytes] of snapshot) {
    let same = false;
    try {
      same = fs.readFileSync(file).equals(bytes);
    } catch {
      same = false;
    }
    if (!same) fs.writeFileSync(file, bytes);
  }
}

export function sha(bytes: Buffer): string {
  return crypto.createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}
