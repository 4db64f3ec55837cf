// The systematic crash harness: every state-changing command is SIGKILLed at each of
// its file-system operations in turn (strace fault injection, test/helpers/crash-trace.ts),
// then the documented rerun and the next commands run, and the invariants are
// checked against a model: every acknowledged write and mark intact, every listed
// mark restoring byte for byte, `verify` clean at both sites, no temporary left,
// nothing stuck. `npm test` tries a seeded sample of kill points per command
// (first, last and some between); MARKLOG_CRASH_POINTS=all (`npm run soak`) tries
// every one. MARKLOG_CRASH_POINTS=N samples N, MARKLOG_CRASH_SEED picks the sample,
// MARKLOG_CRASH_ONLY=name,name runs only those commands.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import {imageName, markImages, type CrashWorld, type Model} from '../helpers/crash-world.js';
import {runScenario, type Choice, type Scenario, type Step} from '../helpers/crash-harness.js';
import {Site} from '../../src/site/site.js';
import {marksInLog} from '../../src/mark/remote-marks.js';

const MiB = 1024 * 1024;
const POINTS = process.env.MARKLOG_CRASH_POINTS ?? '4';
const CHOICE: Choice = {all: POINTS === 'all', sample: POINTS === 'all' ? 0 : Math.max(2, Number(POINTS)), seed: Number(process.env.MARKLOG_CRASH_SEED ?? 11)};
const ONLY = process.env.MARKLOG_CRASH_ONLY?.split(',').map(name => name.trim());
const JOBS = Math.max(1, Number(process.env.MARKLOG_CRASH_JOBS ?? 2));

/** Distinct, recognisable data for write n. */
function bytes(n: number, length: number): Buffer {
  const data = Buffer.alloc(length, (n * 37 + 11) & 0xff);
  data.writeUInt32LE(n, 0);
  return data;
}

/** The mark IDs the remote's log holds now. */
function loggedMarks(w: CrashWorld): number[] {
  const remote = Site.open(w.r);
  try {
    return marksInLog(remote, 1).map(mark => mark.markId);
  } finally {
    remote.close();
  }
}

function tablesOf(dir: string): any {
  return JSON.parse(fs.readFileSync(path.join(dir, 'tables.json'), 'utf8'));
}

const step = (args: string[], more: Partial<Step> = {}): Step => ({args, ...more});

/** A host write at a site, mirrored in the model of the image it lands on (and of the R-VOL, for a pair in PAIR). */
function writeStep(w: CrashWorld, at: 'p' | 'r', ldev: number, offset: number, data: Buffer, more: Partial<Step> & {mirror?: number} = {}): Step {
  const apply = (model: Model) => {
    data.copy(model.images.get(imageName(at, ldev))!, offset);
    if (more.mirror !== undefined) data.copy(model.images.get(imageName(at === 'p' ? 'r' : 'p', more.mirror))!, offset);
  };
  return {args: ['write', '--site', at === 'p' ? w.p : w.r, '--vol', String(ldev), '--offset', String(offset)], input: data, apply, ...more};
}

function markStep(w: CrashWorld): Step {
  return step(['mark', '--site', w.p, '--group', '1', '--app', 'crash'], {apply: (model, result) => model.marks.set(result.markId, markImages(model))});
}

/** Two linked sites; M-VOL n (n < pairs) holds data in two places and is paired (PAIR, pair n + 1) with R-VOL n. */
async function paired(w: CrashWorld, pairs = 1): Promise<void> {
  await w.sites();
  for (let n = 0; n < pairs; n++) {
    const mvol = w.volume('p', MiB);
    const rvol = w.volume('r', MiB);
    w.fill(imageName('p', mvol), n * 65_536, bytes(1 + n, 70_000));
    w.fill(imageName('p', mvol), 600_000, bytes(3 + n, 30_000));
    await w.pair(mvol, rvol);
  }
}

const MEMBERS = [{mvol: 0, rvol: 0}, {mvol: 1, rvol: 1}];

/**
 * Log group 1 of pairs 1 and 2 (M-VOLs 0, 1; R-VOLs 0, 1) logging into pool volume 2:
 * writes to both, mark 1, writes, mark 2, and an unmarked write to each.
 */
async function logging(w: CrashWorld): Promise<void> {
  await paired(w, 2);
  w.volume('r', 4 * MiB, true);
  await w.logStart([1, 2], MEMBERS);
  await w.write(0, 4096, bytes(5, 5000));
  await w.write(1, 130_000, bytes(6, 9000));
  await w.mark();
  await w.write(0, 200_000, bytes(7, 70_000));
  await w.write(1, 4096, bytes(8, 3000));
  await w.mark();
  await w.write(0, 700_000, bytes(9, 9000));
  await w.write(1, 900_000, bytes(10, 20_000));
}

/** The copy back into PAIR after a log stops: every pair resynced, the R-VOLs equal to their M-VOLs. */
function resyncAll(w: CrashWorld): Step[] {
  return MEMBERS.map(({mvol, rvol}, i) => step(['pair', 'resync', '--site', w.p, '--pair', String(i + 1)], {apply: model => {
    model.images.set(imageName('r', rvol), Buffer.from(model.images.get(imageName('p', mvol))!));
  }}));
}

/** A new log over both pairs (a new base): the old marks go. */
function restartLog(w: CrashWorld): Step {
  return step(['log', 'start', '--site', w.p, '--pairs', '1,2', '--group', '1'], {apply: model => model.marks.clear()});
}

/** The model's R-VOLs take the image of a mark, and the marks before it leave the list. */
function baseMovesTo(model: Model, markId: number): void {
  for (const [rvol, data] of model.marks.get(markId)!) model.images.set(imageName('r', rvol), Buffer.from(data));
  for (const id of model.marks.keys()) if (id < markId) model.marks.delete(id);
}

/** The M-VOL holds either the bytes before a killed write or after it (a pwrite is not torn by a kill); the model takes what is there. */
function oldOrNew(model: Model, w: CrashWorld, file: string, offset: number, data: Buffer): string[] {
  const actual = fs.readFileSync(path.join(w.root, file));
  const before = model.images.get(file)!;
  const after = Buffer.from(before);
  data.copy(after, offset);
  if (actual.equals(after)) model.images.set(file, after);
  else if (!actual.equals(before)) return [`${file} is neither the image before the killed write nor after it`];
  return [];
}

const WRITE = bytes(9, 20_000);
const WRITE_AT = 300_000;

const SCENARIOS: Scenario[] = [
  {
    name: 'site link',
    build: async w => {
      await w.sites(false);
    },
    command: w => ['site', 'link', '--site', w.p, '--remote', w.r],
    rerun: w => [step(['site', 'link', '--site', w.p, '--remote', w.r])],
    expect: () => undefined,
    next: w => [step(['volume', 'create', '--site', w.r, '--size', '1M']), step(['volume', 'create', '--site', w.p, '--size', '1M']), step(['pair', 'create', '--site', w.p, '--mvol', '0', '--rvol', '0'])],
    check: async w => {
      const primary = tablesOf(w.p);
      const remote = tablesOf(w.r);
      return primary.link?.siteId === remote.site.id && remote.peers.some((peer: {siteId: string}) => peer.siteId === primary.site.id) ? [] : ['the two sites do not name each other'];
    },
  },
  {
    name: 'volume create',
    build: async w => {
      await w.sites();
      w.volume('p', MiB);
    },
    command: w => ['volume', 'create', '--site', w.p, '--size', '1M'],
    rerun: w => [step(['volume', 'create', '--site', w.p, '--size', '1M'])],
    expect: () => undefined,
    next: w => [step(['volume', 'create', '--site', w.p, '--size', '1M'])],
    check: async w => {
      const tables = tablesOf(w.p);
      const listed = new Set(tables.volumes.map((v: {image: string}) => v.image));
      const problems = tables.volumes.filter((v: {image: string; capacity: number}) => fs.statSync(path.join(w.p, v.image)).size !== v.capacity).map((v: {ldev: number}) => `LDEV ${v.ldev} has the wrong size`);
      const orphans = fs.readdirSync(path.join(w.p, 'volumes')).filter(name => !listed.has(`volumes/${name}`));
      if (orphans.length > 0) problems.push(`images no volume row names: ${orphans.join(', ')}`);
      return problems;
    },
  },
  {
    name: 'volume import',
    build: async w => {
      await w.sites();
      fs.mkdirSync(path.join(w.root, 'images'));
      fs.writeFileSync(path.join(w.root, 'images', 'db.img'), Buffer.alloc(MiB));
      w.model.images.set('images/db.img', Buffer.alloc(MiB));
      w.fill('images/db.img', 8192, bytes(6, 4000));
    },
    command: w => ['volume', 'import', '--site', w.p, path.join(w.root, 'images', 'db.img')],
    // Run again; when the first run got as far as the table, the image is already a volume.
    rerun: w => [step(['volume', 'import', '--site', w.p, path.join(w.root, 'images', 'db.img')], {accept: ['INVALID_ARGUMENT']})],
    expect: () => undefined,
    next: w => [step(['write', '--site', w.p, '--vol', '0', '--offset', '0'], {input: bytes(7, 512), apply: model => bytes(7, 512).copy(model.images.get('images/db.img')!, 0)})],
    check: async w => {
      const rows = tablesOf(w.p).volumes.filter((v: {image: string}) => v.image === path.join(w.root, 'images', 'db.img'));
      return rows.length === 1 ? [] : [`the image is ${rows.length} volumes`];
    },
  },
  {
    name: 'pair create',
    build: async w => {
      await w.sites();
      const mvol = w.volume('p', MiB);
      w.volume('r', MiB);
      w.fill(imageName('p', mvol), 0, bytes(1, 70_000));
      w.fill(imageName('p', mvol), 500_000, bytes(2, 200_000));
      w.volume('p', MiB);
      w.volume('r', MiB);
    },
    command: w => ['pair', 'create', '--site', w.p, '--mvol', '0', '--rvol', '0'],
    // OPERATING.md §6: run the same pair create again; it resumes from the copy pointer.
    rerun: w => [step(['pair', 'create', '--site', w.p, '--mvol', '0', '--rvol', '0'], {accept: ['WRONG_PAIR_STATE']})],
    expect: model => {
      model.images.set(imageName('r', 0), Buffer.from(model.images.get(imageName('p', 0))!));
    },
    next: w => [step(['pair', 'create', '--site', w.p, '--mvol', '1', '--rvol', '1'])],
    check: async w => pairStates(w, {1: 'PAIR', 2: 'PAIR'}),
  },
  {
    name: 'pair suspend',
    build: paired,
    command: w => ['pair', 'suspend', '--site', w.p, '--pair', '1'],
    rerun: w => [step(['pair', 'suspend', '--site', w.p, '--pair', '1'])],
    expect: () => undefined,
    next: w => [writeStep(w, 'p', 0, WRITE_AT, WRITE), step(['pair', 'resync', '--site', w.p, '--pair', '1'], {apply: model => {
      model.images.set(imageName('r', 0), Buffer.from(model.images.get(imageName('p', 0))!));
    }})],
    check: async w => pairStates(w, {1: 'PAIR'}),
  },
  {
    name: 'pair resync',
    build: async w => {
      await paired(w);
      await w.suspend(1);
      await w.write(0, WRITE_AT, WRITE);
      await w.write(0, 900_000, bytes(8, 100_000));
    },
    command: w => ['pair', 'resync', '--site', w.p, '--pair', '1'],
    rerun: w => [step(['pair', 'resync', '--site', w.p, '--pair', '1'])],
    expect: model => {
      model.images.set(imageName('r', 0), Buffer.from(model.images.get(imageName('p', 0))!));
    },
    next: w => [writeStep(w, 'p', 0, 50_000, bytes(10, 3000), {mirror: 0})],
    check: async w => pairStates(w, {1: 'PAIR'}),
  },
  {
    name: 'pair resync --reverse',
    build: async w => {
      await logging(w);
      w.takeover(2);
      await w.remoteWrite(0, WRITE_AT, WRITE);
    },
    command: w => ['pair', 'resync', '--site', w.p, '--pair', '1', '--reverse'],
    // Run again unless the pair already runs reversed (a second run would swap it back).
    rerun: w => tablesOf(w.p).pairs[0].direction === 'reverse' ? [] : [step(['pair', 'resync', '--site', w.p, '--pair', '1', '--reverse'])],
    expect: model => {
      model.images.set(imageName('p', 0), Buffer.from(model.images.get(imageName('r', 0))!));
    },
    // The R-VOL is the source now: its writes reach the M-VOL.
    next: w => [writeStep(w, 'r', 0, 50_000, bytes(10, 3000), {mirror: 0})],
    check: async w => pairStates(w, {1: 'PAIR'}),
  },
  {
    name: 'pair delete',
    build: async w => {
      await paired(w);
      await w.suspend(1);
      await w.write(0, WRITE_AT, WRITE);
    },
    command: w => ['pair', 'delete', '--site', w.p, '--pair', '1'],
    rerun: w => [step(['pair', 'delete', '--site', w.p, '--pair', '1'], {accept: ['PAIR_NOT_FOUND']})],
    expect: () => undefined,
    // Both volumes are free again: they pair anew.
    next: w => [step(['pair', 'create', '--site', w.p, '--mvol', '0', '--rvol', '0'], {apply: model => {
      model.images.set(imageName('r', 0), Buffer.from(model.images.get(imageName('p', 0))!));
    }})],
  },
  {
    name: 'pair delete --force (logging)',
    build: logging,
    command: w => ['pair', 'delete', '--site', w.p, '--pair', '2', '--force'],
    rerun: w => [step(['pair', 'delete', '--site', w.p, '--pair', '2', '--force'], {accept: ['PAIR_NOT_FOUND']})],
    // R-VOL 1 leaves the group: no mark offers it any more; the group goes on with pair 1.
    expect: model => {
      model.members = model.members.filter(m => m.rvol !== 1);
      for (const images of model.marks.values()) images.delete(1);
    },
    next: w => [writeStep(w, 'p', 0, WRITE_AT, WRITE), markStep(w), step(['pair', 'create', '--site', w.p, '--mvol', '1', '--rvol', '1'], {apply: model => {
      model.images.set(imageName('r', 1), Buffer.from(model.images.get(imageName('p', 1))!));
    }})],
  },
  {
    name: 'log start',
    build: async w => {
      await paired(w);
      w.volume('r', 4 * MiB, true);
    },
    command: w => ['log', 'start', '--site', w.p, '--pairs', '1', '--group', '1'],
    // Run again unless both sites already log (then the pair is PSUS and a rerun is refused).
    rerun: w => tablesOf(w.r).groups[0]?.mode === 'LOG' && tablesOf(w.p).pairs[0].logGroup === 1 ? [] : [step(['log', 'start', '--site', w.p, '--pairs', '1', '--group', '1'])],
    expect: model => {
      model.members = [{mvol: 0, rvol: 0}];
    },
    next: w => [writeStep(w, 'p', 0, WRITE_AT, WRITE), markStep(w)],
  },
  {
    name: 'log stop',
    build: logging,
    command: w => ['log', 'stop', '--site', w.p, '--group', '1'],
    rerun: w => [step(['log', 'stop', '--site', w.p, '--group', '1'], {accept: ['WRONG_LOG_MODE']})],
    expect: () => undefined,
    // LOGGING.md: resync the pairs, then start a new log (a new base; the old marks go).
    next: w => [...resyncAll(w), restartLog(w), markStep(w)],
  },
  {
    name: 'log extend',
    build: async w => {
      await logging(w);
      w.volume('r', 4 * MiB, true);
    },
    command: w => ['log', 'extend', '--site', w.r, '--group', '1'],
    // Run again unless the group already holds the pool volume.
    rerun: w => tablesOf(w.r).groups[0].logVolumes.length > 1 ? [] : [step(['log', 'extend', '--site', w.r, '--group', '1'])],
    expect: () => undefined,
    next: w => [writeStep(w, 'p', 0, WRITE_AT, WRITE), markStep(w)],
    check: async w => tablesOf(w.r).groups[0].logVolumes.length === 2 ? [] : ['the group does not hold both log volumes'],
  },
  {
    name: 'log apply',
    build: logging,
    command: w => ['log', 'apply', '--site', w.r, '--group', '1', '--upto', '2'],
    rerun: w => [step(['log', 'apply', '--site', w.r, '--group', '1', '--upto', '2'])],
    expect: model => baseMovesTo(model, 2),
    next: w => [writeStep(w, 'p', 0, WRITE_AT, WRITE), markStep(w)],
  },
  {
    name: 'mark',
    build: logging,
    command: w => ['mark', '--site', w.p, '--group', '1', '--app', 'crash'],
    rerun: w => [markStep(w)],
    // The killed mark may have reached the log: then it restores to the same image.
    expect: (model, w) => {
      for (const id of loggedMarks(w)) if (!model.marks.has(id)) model.marks.set(id, markImages(model));
    },
    next: w => [markStep(w)],
  },
  {
    name: 'write (logged)',
    build: logging,
    command: w => ['write', '--site', w.p, '--vol', '0', '--offset', String(WRITE_AT)],
    input: WRITE,
    // The host was not told: the next command (a mark) finds the in-flight record and sends the region on.
    rerun: () => [],
    expect: (model, w) => oldOrNew(model, w, imageName('p', 0), WRITE_AT, WRITE),
    next: w => [markStep(w), writeStep(w, 'p', 0, WRITE_AT, WRITE), markStep(w)],
  },
  {
    name: 'write (PAIR)',
    build: paired,
    command: w => ['write', '--site', w.p, '--vol', '0', '--offset', String(WRITE_AT)],
    input: WRITE,
    rerun: () => [],
    // The next write repairs the region of the killed one on the R-VOL.
    expect: (model, w) => {
      const problems = oldOrNew(model, w, imageName('p', 0), WRITE_AT, WRITE);
      model.images.set(imageName('r', 0), Buffer.from(model.images.get(imageName('p', 0))!));
      return problems;
    },
    next: w => [writeStep(w, 'p', 0, 4096, bytes(10, 3000), {mirror: 0})],
    check: async w => pairStates(w, {1: 'PAIR'}),
  },
  {
    name: 'write (PSUS)',
    build: async w => {
      await paired(w);
      await w.suspend(1);
    },
    command: w => ['write', '--site', w.p, '--vol', '0', '--offset', String(WRITE_AT)],
    input: WRITE,
    rerun: () => [],
    expect: (model, w) => oldOrNew(model, w, imageName('p', 0), WRITE_AT, WRITE),
    // Whatever the kill left, the bitmap (or the in-flight record) makes the resync carry the region.
    next: w => [step(['pair', 'resync', '--site', w.p, '--pair', '1'], {apply: model => {
      model.images.set(imageName('r', 0), Buffer.from(model.images.get(imageName('p', 0))!));
    }})],
  },
  {
    name: 'write (SSWS at the remote)',
    build: async w => {
      await logging(w);
      w.takeover(2);
    },
    command: w => ['write', '--site', w.r, '--vol', '0', '--offset', String(WRITE_AT)],
    input: WRITE,
    rerun: () => [],
    expect: (model, w) => oldOrNew(model, w, imageName('r', 0), WRITE_AT, WRITE),
    // The failback copies back every region written at the remote since the takeover.
    next: w => [step(['pair', 'resync', '--site', w.p, '--pair', '1', '--reverse'], {apply: model => {
      model.images.set(imageName('p', 0), Buffer.from(model.images.get(imageName('r', 0))!));
    }})],
  },
  {
    name: 'write (reverse at the remote)',
    build: async w => {
      await logging(w);
      w.takeover(2);
      await w.failback(1, 0, 0);
    },
    command: w => ['write', '--site', w.r, '--vol', '0', '--offset', String(WRITE_AT)],
    input: WRITE,
    rerun: () => [],
    // The R-VOL is the source: the next write there sends the killed one's region on to the M-VOL.
    expect: (model, w) => {
      const problems = oldOrNew(model, w, imageName('r', 0), WRITE_AT, WRITE);
      model.images.set(imageName('p', 0), Buffer.from(model.images.get(imageName('r', 0))!));
      return problems;
    },
    next: w => [writeStep(w, 'r', 0, 4096, bytes(11, 3000), {mirror: 0})],
    check: async w => pairStates(w, {1: 'PAIR'}),
  },
  {
    name: 'takeover',
    build: logging,
    command: w => ['takeover', '--site', w.r, '--group', '1', '--mark', '1'],
    rerun: w => [step(['takeover', '--site', w.r, '--group', '1', '--mark', '1'], {accept: ['WRONG_PAIR_STATE']})],
    expect: model => {
      baseMovesTo(model, 1);
      model.marks.clear();
    },
    // The R-VOL takes writes at the remote; a write at the primary is refused (and tracked).
    next: w => [writeStep(w, 'r', 0, WRITE_AT, WRITE), writeStep(w, 'p', 0, 50_000, bytes(10, 3000), {accept: ['TAKEN_OVER']})],
  },
  {
    name: 'restore --to FILE',
    build: async w => {
      await logging(w);
      fs.mkdirSync(path.join(w.root, 'out'));
    },
    // Every volume of the group into a directory: one image per R-VOL, all at mark 2.
    command: w => ['restore', '--site', w.r, '--group', '1', '--mark', '2', '--to', path.join(w.root, 'out')],
    rerun: w => restoredFiles(w).length === MEMBERS.length ? [] : [step(['restore', '--site', w.r, '--group', '1', '--mark', '2', '--to', path.join(w.root, 'out')])],
    expect: model => {
      for (const {rvol} of MEMBERS) model.images.set(`out/rvol-${String(rvol).padStart(4, '0')}.img`, Buffer.from(model.marks.get(2)!.get(rvol)!));
    },
  },
  {
    name: 'restore --to ldev',
    build: async w => {
      await logging(w);
      w.volume('r', MiB);
    },
    command: w => ['restore', '--site', w.r, '--group', '1', '--mark', '2', '--rvol', '1', '--to', 'ldev:3'],
    rerun: w => [step(['restore', '--site', w.r, '--group', '1', '--mark', '2', '--rvol', '1', '--to', 'ldev:3'])],
    expect: model => {
      model.images.set(imageName('r', 3), Buffer.from(model.marks.get(2)!.get(1)!));
    },
  },
  {
    name: 'restore --to rvol',
    build: logging,
    command: w => ['restore', '--site', w.r, '--group', '1', '--mark', '1', '--to', 'rvol', '--force'],
    rerun: w => [step(['restore', '--site', w.r, '--group', '1', '--mark', '1', '--to', 'rvol', '--force'])],
    expect: model => baseMovesTo(model, 1),
    next: w => [writeStep(w, 'p', 0, WRITE_AT, WRITE), markStep(w)],
  },
  {
    name: 'restore --to mvol',
    build: logging,
    command: w => ['restore', '--site', w.r, '--group', '1', '--mark', '1', '--to', 'mvol', '--force'],
    rerun: w => [step(['restore', '--site', w.r, '--group', '1', '--mark', '1', '--to', 'mvol', '--force'])],
    expect: model => {
      for (const {mvol, rvol} of MEMBERS) model.images.set(imageName('p', mvol), Buffer.from(model.marks.get(1)!.get(rvol)!));
    },
    // RECOVERY.md §5: resync the pairs, then start a new log.
    next: w => [...resyncAll(w), restartLog(w), markStep(w)],
  },
];

function restoredFiles(w: CrashWorld): string[] {
  return fs.readdirSync(path.join(w.root, 'out')).filter(name => /^rvol-\d+\.img$/.test(name));
}

/** The pairs at the primary are in these states. */
async function pairStates(w: CrashWorld, expected: Record<number, string>): Promise<string[]> {
  const pairs: {pair: number; state: string}[] = tablesOf(w.p).pairs;
  return Object.entries(expected)
    .filter(([pair, state]) => pairs.find(p => p.pair === Number(pair))?.state !== state)
    .map(([pair, state]) => `pair ${pair} is ${pairs.find(p => p.pair === Number(pair))?.state ?? 'gone'}, expected ${state}`);
}

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'marklog-crash-'));
test.after.always(() => fs.rmSync(base, {recursive: true, force: true}));

let running = 0;
const waiting: (() => void)[] = [];
async function slot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= JOBS) await new Promise<void>(resolve => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

for (const scenario of SCENARIOS) {
  if (ONLY && !ONLY.includes(scenario.name)) continue;
  test(`crash harness: ${scenario.name} killed at ${CHOICE.all ? 'every' : 'a sample of its'} file-system operation(s), then rerun, keeps every invariant`, async t => {
    const report = await slot(() => runScenario(scenario, base, CHOICE));
    t.log(`${scenario.name}: ${report.tried} of ${report.points} kill points tried (${report.ops.length} operations listed; seed ${CHOICE.seed})`);
    if (report.findingsAfterKill.size > 0) t.log(`verify right after a kill found: ${[...report.findingsAfterKill].map(([check, n]) => `${check} ×${n}`).join(', ')}`);
    t.deepEqual(report.problems, []);
  });
}
