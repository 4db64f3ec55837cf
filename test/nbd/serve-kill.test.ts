// Issue 14, item 5: kill -9 of `marklog serve` while hosts write through it. fio loads one
// volume of the log group with random writes and FLUSHes; on the other a client of the
// tests' own (test/helpers/nbd-pipelined-client.ts) writes blocks that name their write (and zeros,
// by TRIM and WRITE_ZEROES), FLUSHes, and issues marks between FLUSHes (the application's
// flow: nothing in flight, flush, mark), keeping a ledger of what the server acknowledged.
// The server is killed at a seeded moment (a write acknowledged, a FLUSH in flight, a mark
// running), restarted, and the M-VOL, every mark's restore at the remote (Fig. 23) and
// `marklog verify` are held to the ledger. MARKLOG_SERVE_KILLS sets the rounds (4 by
// default), MARKLOG_TEST_SEED replays one run.
import type {ChildProcess} from 'node:child_process';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {cli, cliSpawn} from '../helpers/cli.js';
import {Rng} from '../helpers/fuzz.js';
import {loggingSites, restore, type MarkResult} from '../helpers/logging.js';
import {NbdConnectionLost, PipelinedClient} from '../helpers/nbd-pipelined-client.js';
import {exited, killIfRunning, type Exit} from '../helpers/processes.js';
import {serve, type Served} from '../helpers/serve.js';
import {imagePath, sha256} from '../helpers/sites.js';
import {waitFor} from '../helpers/wait.js';
import {WriteLedger, type Violation} from '../helpers/write-ledger.js';

const ROUNDS = Number(process.env.MARKLOG_SERVE_KILLS ?? 4);
const SEED = Number(process.env.MARKLOG_TEST_SEED ?? Date.now() % 100_000);
/** Writes the client keeps in flight, blocks per write at most, writes per FLUSH, FLUSHes per mark. */
const DEPTH = 8;
const MAX_BLOCKS = 16;
const WRITES_PER_FLUSH = 12;
const FLUSHES_PER_MARK = 3;
/** Marks whose restores are all checked; past this, the first and last of each round and the final one. */
const RESTORE_ALL_UP_TO = 40;

type Moment = 'ack' | 'flush' | 'mark';

/**
 * When a round's SIGKILL comes: `delayMs` after the `at`-th write is acknowledged (the
 * server is then at the next write in the queue), the `at`-th FLUSH is sent, or the `at`-th
 * mark is started.
 */
interface Plan {
  moment: Moment;
  at: number;
  delayMs: number;
}

interface IssuedMark {
  markId: number;
  round: number;
  /** What the client's volume held, by the ledger, when the mark was issued. */
  digest: string;
  /** What fio's volume held, when it was issued while fio was stopped. */
  loadDigest?: string;
}

function planFor(rng: Rng, round: number): Plan {
  const moment = (['ack', 'flush', 'mark'] as const)[(SEED + round) % 3];
  if (moment === 'ack') return {moment, at: rng.range(1, 150), delayMs: rng.int(2)};
  if (moment === 'flush') return {moment, at: rng.range(1, 2 * FLUSHES_PER_MARK), delayMs: rng.int(3)};
  return {moment, at: rng.range(1, 2), delayMs: rng.int(120)};
}

/** `marklog mark --json` in its own process, so this one keeps serving its sockets meanwhile. */
async function markNow(primary: string, app: string): Promise<number> {
  const result = await exited(cliSpawn(['mark', '--site', primary, '--app', app, '--json']));
  if (result.code !== 0) throw new Error(`marklog mark exited ${result.code ?? result.signal}: ${result.stderr}`);
  return (JSON.parse(result.stdout) as MarkResult).markId;
}

/**
 * fio on the other volume: 4 KiB random writes at queue depth 8 with a FLUSH every 16,
 * until its server dies; resolves once its writes reach the M-VOL. One process (--thread),
 * so a SIGKILL ends all of it.
 */
async function fioLoad(t: ExecutionContext, url: string, mvolFile: string): Promise<{child: ChildProcess; done: Promise<Exit>}> {
  const before = fs.statSync(mvolFile).mtimeMs;
  const child = spawn('fio', ['--name=load', '--thread', '--ioengine=nbd', `--uri=${url}`, '--rw=randwrite', '--bs=4k', '--size=16M',
    '--iodepth=8', '--fsync=16', '--time_based', '--runtime=300', '--output-format=terse'], {stdio: ['ignore', 'pipe', 'pipe']});
  const done = exited(child);
  t.teardown(() => killIfRunning(child));
  await waitFor(() => fs.statSync(mvolFile).mtimeMs !== before || child.exitCode !== null, {what: 'fio to write'});
  if (child.exitCode !== null) throw new Error(`fio ended before it wrote: ${(await done).stderr}`);
  return {child, done};
}

/**
 * The client's host until its server is killed: writes of 1 to MAX_BLOCKS blocks with up
 * to DEPTH requests in flight, a FLUSH after every WRITES_PER_FLUSH writes, and after every FLUSHES_PER_MARK
 * FLUSHes a mark: the writes drained, one more FLUSH, then `marklog mark`.
 */
async function hostUntilKilled(client: PipelinedClient, ledger: WriteLedger, rng: Rng, plan: Plan, kill: () => void, mark: () => Promise<void>): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  const failures: unknown[] = [];
  const counts = {ack: 0, flush: 0, mark: 0};
  const reached = (moment: Moment) => {
    if (++counts[moment] !== plan.at || plan.moment !== moment) return;
    if (plan.delayMs === 0) kill();
    else setTimeout(kill, plan.delayMs);
  };
  /** A request whose answer the ledger waits for; a lost connection is the expected end, anything else a failure. */
  const track = (request: Promise<void>, answered: () => void) => {
    const settled: Promise<void> = request.then(answered, error => {
      if (!(error instanceof NbdConnectionLost)) failures.push(error);
    }).finally(() => inFlight.delete(settled));
    inFlight.add(settled);
  };
  const flush = () => {
    const point = ledger.flushPoint();
    track(client.flush(), () => ledger.flushed(point));
    reached('flush');
  };
  let writes = 0;
  while (client.open) {
    while (inFlight.size >= DEPTH && client.open) await Promise.race(inFlight);
    // One request in ten writes zeros: TRIM or WRITE_ZEROES, up to 2.5 MiB (several zero records).
    const zeros = rng.chance(0.1);
    const count = zeros ? rng.range(1, 640) : rng.range(1, MAX_BLOCKS);
    const first = rng.int(ledger.blocks - count + 1);
    if (!ledger.free(first, count)) continue;
    const write = ledger.begin(first, count, zeros);
    const request = !zeros ? client.write(write.offset, write.data)
      : rng.chance(0.5) ? client.trim(write.offset, write.length) : client.writeZeroes(write.offset, write.length);
    track(request, () => {
      ledger.acknowledge(write.seq, first, count);
      reached('ack');
    });
    if (++writes % WRITES_PER_FLUSH !== 0) continue;
    flush();
    if ((writes / WRITES_PER_FLUSH) % FLUSHES_PER_MARK !== 0) continue;
    await Promise.all(inFlight);
    if (!client.open) break;
    flush();
    await Promise.all(inFlight);
    if (!client.open) break;
    const marking = mark();
    reached('mark');
    await marking;
  }
  await Promise.all(inFlight);
  if (failures.length > 0) throw failures[0];
}

/** The first few violations, for a readable failure. */
const firstOf = (violations: Violation[]) => violations.slice(0, 5);

test('kill -9 of marklog serve during fio and a client\'s writes, FLUSHes and marks: after each restart the M-VOL holds every write acknowledged before the last completed FLUSH (and every acknowledged one), every mark restores exactly at the remote, and verify is clean at both sites', async t => {
  t.log(`seed ${SEED}, ${ROUNDS} kills (MARKLOG_TEST_SEED=${SEED} MARKLOG_SERVE_KILLS=${ROUNDS} to replay)`);
  const sites = loggingSites(t, {size: '16M', pairs: 2, logSize: `${Math.max(256, ROUNDS * 48)}M`});
  const [client, load] = sites.members;
  const mvolFile = imagePath(sites.primary, client.mvol);
  const ledger = new WriteLedger(SEED, sites.host.now(client.mvol));
  const rng = new Rng(SEED);
  const marks: IssuedMark[] = [];
  const started = Date.now();
  const loadFile = imagePath(sites.primary, load.mvol);
  const issue = async (round: number, app: string, fioStopped = false) => {
    const digest = ledger.digest();
    const loadDigest = fioStopped ? sha256(loadFile) : undefined;
    marks.push({markId: await markNow(sites.primary, app), round, digest, loadDigest});
  };
  let served: Served = await serve(t, sites.primary);
  let landed = 0;
  let notLanded = 0;

  for (let round = 1; round <= ROUNDS; round++) {
    const plan = planFor(rng, round);
    const fio = await fioLoad(t, `${served.url}/${load.mvol}`, loadFile);
    const nbd = await PipelinedClient.connect(served.port, String(client.mvol));
    const victim = served;
    await hostUntilKilled(nbd, ledger, rng, plan, () => victim.child.kill('SIGKILL'), () => issue(round, `round ${round}`));
    t.like(await victim.done, {signal: 'SIGKILL'}, `round ${round}: the server was killed (${plan.moment} ${plan.at})`);
    fio.child.kill('SIGKILL');
    await fio.done;

    // Restarted: the M-VOL holds what the ledger says, whatever was in flight counts as what landed.
    served = await serve(t, sites.primary);
    const volume = fs.readFileSync(mvolFile);
    const {flush, acknowledged} = ledger.check(volume);
    t.deepEqual(firstOf(flush), [], `round ${round} (${plan.moment} ${plan.at}): every write acknowledged before the last completed FLUSH is on the M-VOL`);
    t.deepEqual(firstOf(acknowledged), [], `round ${round} (${plan.moment} ${plan.at}): every acknowledged write is on the M-VOL`);
    const settled = ledger.settle(volume);
    landed += settled.landed;
    notLanded += settled.notLanded;
    // A mark right after the restart: the log holds all of that too, and whatever fio's writes left on its M-VOL.
    await issue(round, `round ${round}, restarted`, true);
  }

  await issue(ROUNDS + 1, 'after the kills', true);
  served.child.kill('SIGTERM');
  t.like(await served.done, {code: 0}, 'the last server drains and exits 0');
  t.is(sha256(mvolFile), ledger.digest(), 'the M-VOL holds exactly the acknowledged writes');
  t.log(`${marks.length} marks; blocks in flight at the kills: ${landed} landed, ${notLanded} did not; ${Date.now() - started} ms of rounds`);

  for (const site of [sites.primary, sites.remote]) {
    const result = cli(['verify', '--site', site, '--json']);
    t.is(result.code, 0, `verify at ${path.basename(site)}: ${result.stdout}`);
    t.deepEqual(JSON.parse(result.stdout).findings, []);
  }
  const checked = marks.length <= RESTORE_ALL_UP_TO ? marks : marks.filter((m, i) => i === marks.length - 1
    || marks[i - 1]?.round !== m.round || marks[i + 1]?.round !== m.round);
  for (const mark of checked) {
    const file = path.join(sites.root, `mark-${mark.markId}.img`);
    restore(sites.remote, sites.group, ['--mark', String(mark.markId), '--rvol', String(client.rvol), '--to', file]);
    t.is(sha256(file), mark.digest, `mark ${mark.markId} (round ${mark.round}) restores to what was acknowledged before it was issued (seed ${SEED})`);
    fs.rmSync(file);
    if (!mark.loadDigest) continue;
    restore(sites.remote, sites.group, ['--mark', String(mark.markId), '--rvol', String(load.rvol), '--to', file]);
    t.is(sha256(file), mark.loadDigest, `mark ${mark.markId} (round ${mark.round}) restores fio's volume to its M-VOL then (seed ${SEED})`);
    fs.rmSync(file);
  }
});
