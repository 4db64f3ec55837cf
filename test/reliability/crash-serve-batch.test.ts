// The crash harness's proof (crash-harness.test.ts) carried to `marklog serve`'s
// pipelined batch: a host sends 8 writes (distinct data, some overlapping) and a FLUSH
// in one go, they form one batch (the first batch is held until all 9 are queued:
// MARKLOG_TEST_FIRST_BATCH), and serve is SIGKILLed at each file-system operation of
// that batch in turn, counted from its start under strace, and once after every answer
// is in (test/helpers/crash-serve.ts). After each kill: the M-VOL holds the batch's
// first writes in admission order and every answered one; the next command repairs
// what the batch left in flight (its activity-log slots) and the pair's copy or log
// agrees with the M-VOL; `verify` is clean at both sites and no slot is left set.
// `npm test` tries the first, the last and a seeded sample between
// (MARKLOG_CRASH_POINTS, default 6 here, as the points are cheap; MARKLOG_CRASH_SEED);
// `npm run soak` sets MARKLOG_CRASH_POINTS=all.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import {cliAsync, imageName, markImages, parsed, type CrashWorld, type Model} from '../helpers/crash-world.js';
import {compareImage, type Choice} from '../helpers/crash-harness.js';
import {runServeBatch, serveWrites, type BatchRequest, type BatchScenario} from '../helpers/crash-serve.js';

const MiB = 1024 * 1024;
const POINTS = process.env.MARKLOG_CRASH_POINTS ?? '6';
const CHOICE: Choice = {all: POINTS === 'all', sample: POINTS === 'all' ? 0 : Math.max(2, Number(POINTS)), seed: Number(process.env.MARKLOG_CRASH_SEED ?? 11)};

/** Write n's data: every 512 bytes name the write and the sector, over a fill byte of its own. */
function stamped(n: number, length: number): Buffer {
  const data = Buffer.alloc(length, (n * 37 + 11) & 0xff);
  for (let at = 0; at + 8 <= length; at += 512) {
    data.writeUInt32LE(0xba7c0000 + n, at);
    data.writeUInt32LE(at / 512, at + 4);
  }
  return data;
}

/** [offset, length] of the batch's writes: 1 overlaps 0, 4 overlaps 3, 6 rewrites 2, 7 lies inside 5; some unaligned. */
const WRITES: [number, number][] = [
  [4096, 8192],
  [8192, 4096],
  [100_000, 12_000],
  [300_000, 3000],
  [301_500, 5000],
  [520_000, 16_384],
  [100_000, 12_000],
  [523_001, 700],
];
const BATCH: BatchRequest[] = [...WRITES.map(([offset, length], n) => ({kind: 'write' as const, offset, data: stamped(n, length)})), {kind: 'flush'}];
/** The host's next write, after the kill: clear of the batch, so it cannot hide a region the repair missed. */
const NEXT = {offset: 900_000, data: stamped(8, 6000)};

/** Two linked sites; M-VOL 0 holds data where the batch will write and is paired (PAIR, pair 1) with R-VOL 0. */
async function paired(w: CrashWorld): Promise<void> {
  await w.sites();
  const mvol = w.volume('p', MiB);
  const rvol = w.volume('r', MiB);
  w.fill(imageName('p', mvol), 0, stamped(20, 120_000));
  w.fill(imageName('p', mvol), 500_000, stamped(21, 40_000));
  await w.pair(mvol, rvol);
}

/** Pair 1 in log group 1 (logging into pool volume 1 at the remote): a write, mark 1, then a write the mark does not cover. */
async function loggingWithMark(w: CrashWorld): Promise<void> {
  await paired(w);
  w.volume('r', 4 * MiB, true);
  await w.logStart([1], [{mvol: 0, rvol: 0}]);
  await w.write(0, 6000, stamped(22, 10_000));
  await w.mark();
  await w.write(0, 301_000, stamped(23, 2000));
}

/** The host's next write through a restarted serve, in the model: on the M-VOL, and on the R-VOL of a pair in PAIR. */
async function nextWriteThroughServe(w: CrashWorld, model: Model, mirrored: boolean): Promise<string[]> {
  const problems = await serveWrites(w.p, 0, [NEXT]);
  NEXT.data.copy(model.images.get(imageName('p', 0))!, NEXT.offset);
  if (mirrored) NEXT.data.copy(model.images.get(imageName('r', 0))!, NEXT.offset);
  return problems;
}

function pairState(w: CrashWorld, pair: number): string | undefined {
  const tables = JSON.parse(fs.readFileSync(path.join(w.p, 'tables.json'), 'utf8'));
  return tables.pairs.find((row: {pair: number}) => row.pair === pair)?.state;
}

/** `marklog mark` at the primary: the model's R-VOL images at this moment become the mark's. */
async function mark(w: CrashWorld, model: Model): Promise<{markId?: number; problems: string[]}> {
  const result = await cliAsync(['mark', '--site', w.p, '--group', '1', '--app', 'crash', '--json']);
  if (result.code !== 0) return {problems: [`marklog mark exited ${result.code}: ${parsed(result)?.error?.code ?? ''} ${result.stderr.trim()}`]};
  const {markId} = parsed(result);
  model.marks.set(markId, markImages(model));
  return {markId, problems: []};
}

/** `marklog restore` of the R-VOL at the remote to a mark, into a new file, compared with what the model says it holds. */
async function restoredAtRemote(w: CrashWorld, model: Model, markId: number): Promise<string[]> {
  const file = path.join(`${w.root}.scratch`, `restored-${markId}.img`);
  const result = await cliAsync(['restore', '--site', w.r, '--group', '1', '--mark', String(markId), '--rvol', '0', '--to', file, '--json']);
  if (result.code !== 0) return [`marklog restore to mark ${markId} exited ${result.code}: ${parsed(result)?.error?.code ?? ''} ${result.stderr.trim()}`];
  const problem = compareImage(file, model.marks.get(markId)!.get(0)!);
  fs.rmSync(file);
  return problem ? [`marklog restore to mark ${markId}: ${problem}`] : [];
}

const SCENARIOS: BatchScenario[] = [
  {
    name: 'PAIR',
    build: paired,
    mvol: 0,
    requests: BATCH,
    // Fig. 15 after a crash: the restarted serve's first batch sends each region left in
    // flight from the M-VOL to the R-VOL, then the host's next write goes to both.
    afterKill: async (w, model) => {
      const problems = await nextWriteThroughServe(w, model, true);
      model.images.set(imageName('r', 0), Buffer.from(model.images.get(imageName('p', 0))!));
      const state = pairState(w, 1);
      if (state !== 'PAIR') problems.push(`pair 1 is ${state ?? 'gone'}, expected PAIR`);
      return problems;
    },
  },
  {
    name: 'log mode, mark 1 before the batch',
    build: loggingWithMark,
    mvol: 0,
    requests: BATCH,
    // Fig. 23 after a crash: the next command, a mark, first journals each region left in
    // flight as the M-VOL holds it, so the mark restores at the remote to exactly the
    // M-VOL; then the host writes through a restarted serve and marks again. Mark 1 still
    // restores to what it covered (checked with every listed mark after this).
    afterKill: async (w, model) => {
      const afterRepair = await mark(w, model);
      const problems = [...afterRepair.problems];
      if (afterRepair.markId !== undefined) problems.push(...await restoredAtRemote(w, model, afterRepair.markId));
      problems.push(...await nextWriteThroughServe(w, model, false));
      problems.push(...(await mark(w, model)).problems);
      return problems;
    },
  },
];

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'marklog-crash-serve-'));
test.after.always(() => fs.rmSync(base, {recursive: true, force: true}));

const AT = CHOICE.all ? 'each of its file-system operations' : 'a sample of its file-system operations';
const TITLES: Record<string, string> = {
  PAIR: `Fig. 15 through serve: a batch of 8 writes and a FLUSH to a pair in PAIR, killed at ${AT}, leaves its first writes on the M-VOL in order, and the next batch's repair makes the R-VOL equal to the M-VOL`,
  'log mode, mark 1 before the batch': `Fig. 19/20 through serve: a batch of 8 logged writes and a FLUSH after mark 1, killed at ${AT}, is journalled by the next mark's repair: that mark restores to exactly the M-VOL and mark 1 to what it covered`,
};

for (const scenario of SCENARIOS) {
  test(TITLES[scenario.name], async t => {
    const started = Date.now();
    const report = await runServeBatch(scenario, base, CHOICE);
    t.log(`${scenario.name}: ${report.tried} of ${report.points} kill points tried (${report.operations.length} operations of the batch and 'answered'; seed ${CHOICE.seed}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    t.log(`writes on the M-VOL after each kill: ${report.reached.join(' ')}; ${report.leftInFlight} kill(s) left activity-log slots set`);
    if (report.findingsAfterKill.size > 0) t.log(`verify right after a kill found: ${[...report.findingsAfterKill].map(([check, n]) => `${check} ×${n}`).join(', ')}`);
    t.deepEqual(report.problems, []);
  });
}
