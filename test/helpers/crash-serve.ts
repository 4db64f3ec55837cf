// `marklog serve` under the crash harness's strace (crash-trace.ts), handling one batch:
// started in its own PID namespace with its first batch held until every request of
// the client's is queued (MARKLOG_TEST_FIRST_BATCH, src/util/test-hooks.ts), so that
// one batch is exactly those requests, whatever the socket's reads cut them into. A
// pipelined client sends them in one go; the server is then listed (every operation it
// makes, those of the batch after its readiness line), killed on entry to one
// operation of the batch, or killed once every answer is in ('answered'). Kill points
// are counted from the start of the process, as the harness counts them: serve's
// start-up makes the same operations in every run from the same state, and every kill
// is checked to have stopped where it was meant to.
import fs from 'node:fs';
import path from 'node:path';
import {NbdConnectionLost, PipelinedClient} from './nbd-pipelined-client.js';
import {commandPid, describePoint, spawnTraced, stoppedAt, straceFilter, type FsOp, type TraceContext, type TracedRun} from './crash-trace.js';
import {checkInvariants, choosePoints, type Choice} from './crash-harness.js';
import {CrashWorld, cloneModel, imageName, type Model} from './crash-world.js';
import {launchServe, stopServe} from './serve.js';
import {linesFrom} from './wait.js';
import {INFLIGHT_FILE} from '../../src/io/inflight.js';
import {verifySite} from '../../src/verify/verify.js';
import {decodeInflight, INFLIGHT_SIZE} from '../../src/format/inflight-format.js';

export type BatchRequest = {kind: 'write'; offset: number; data: Buffer} | {kind: 'flush'};

/** An operation of the batch, or the moment after the client had every answer. */
export type BatchPoint = FsOp | 'answered';

export interface BatchRun {
  run: TracedRun;
  /** For each request, whether the client had a (successful) answer before the connection went. */
  answered: boolean[];
  /** Answers that were errors, and anything else the client saw go wrong: one line each. */
  failures: string[];
}

/** Ends a server that got no kill of its own (a listing, 'answered', a kill that missed). */
const KILL_AFTER_MS = 60_000;

/** Serves LDEV `ldev` of `site` under strace and sends `requests` as one batch; listed when `point` is undefined. */
export async function serveBatch(context: TraceContext, site: string, ldev: number, requests: BatchRequest[], point?: BatchPoint): Promise<BatchRun> {
  const args = ['serve', '--site', site, '--vol', String(ldev), '--listen', '127.0.0.1:0', '--json'];
  const traced = spawnTraced(context, args, straceFilter(point === 'answered' ? undefined : point), {MARKLOG_TEST_FIRST_BATCH: String(requests.length)});
  traced.child.stdin!.end();
  const answered = requests.map(() => false);
  const failures: string[] = [];
  const killCommand = () => {
    const pid = commandPid(traced.child);
    try {
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
      // Not found: the namespace goes with its first process, which unshare --kill-child kills with it.
      else if (traced.child.exitCode === null) traced.child.kill('SIGKILL');
    } catch (error) {
      // It ended between the look and the kill (its own kill point, most likely).
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  };
  const timer = setTimeout(killCommand, KILL_AFTER_MS);
  try {
    const [line] = await linesFrom(traced.child, 1, 'the readiness line of marklog serve under strace');
    const client = await PipelinedClient.connect(JSON.parse(line).listening.port, String(ldev));
    const answers = requests.map((request, i) => (request.kind === 'write' ? client.write(request.offset, request.data) : client.flush()).then(() => {
      answered[i] = true;
    }, error => {
      if (!(error instanceof NbdConnectionLost)) failures.push(`request ${i} (${request.kind}): ${(error as Error).message}`);
    }));
    await Promise.all(answers);
    // Every answer in (or the connection gone): a server still running is killed now.
    killCommand();
    await client.closed;
  } catch (error) {
    failures.push(`the client: ${(error as Error).message}`);
    killCommand();
  } finally {
    clearTimeout(timer);
  }
  return {run: await traced.run, answered, failures};
}

/** The operations of the batch in a listing: those after the readiness line that change something, then 'answered'. */
export function batchPoints(listing: TracedRun): BatchPoint[] {
  return [...listing.ops.slice(listing.beforeOutput).filter(op => op.changes), 'answered'];
}

export interface BatchScenario {
  name: string;
  /** Builds the starting state and its model (through the library). */
  build: (w: CrashWorld) => void | Promise<void>;
  /** The M-VOL (LDEV at the primary) served and written. */
  mvol: number;
  /** The client's batch, sent in one go. */
  requests: BatchRequest[];
  /**
   * After the kill, the model's M-VOL holding what the batch had reached: the repair
   * and the commands after it, each changing the model as it succeeds; returns problems.
   */
  afterKill: (w: CrashWorld, model: Model) => Promise<string[]>;
}

export interface BatchReport {
  /** Operations of the batch that change something (the kill points but 'answered'). */
  operations: FsOp[];
  points: number;
  tried: number;
  problems: string[];
  /** Kills that left slots of the activity log set, for the repair to finish. */
  leftInFlight: number;
  /** How many of the batch's writes the M-VOL held after each kill tried, in order. */
  reached: number[];
  /** verify findings right after a kill (before the repair), by site and check: what verify saw. */
  findingsAfterKill: Map<string, number>;
}

/** Lists the batch's operations, then kills serve at each chosen one and checks what follows. */
export async function runServeBatch(scenario: BatchScenario, base: string, choice: Choice): Promise<BatchReport> {
  const w = new CrashWorld(path.join(base, scenario.name.replace(/[^a-z0-9]+/gi, '-')));
  const context = {root: w.root, scratch: `${w.root}.scratch`};
  fs.mkdirSync(context.scratch, {recursive: true});
  const report: BatchReport = {operations: [], points: 0, tried: 0, problems: [], leftInFlight: 0, reached: [], findingsAfterKill: new Map()};
  try {
    await scenario.build(w);
    w.save();
    const listing = await serveBatch(context, w.p, scenario.mvol, scenario.requests);
    if (listing.failures.length > 0 || !listing.answered.every(Boolean)) {
      throw new Error(`${scenario.name}: the batch fails from its starting state: ${listing.failures.join('; ')} ${listing.run.stderr}`);
    }
    const split = notOneBatch(listing.run, path.join(w.root, imageName('p', scenario.mvol)), w.r, scenario.requests);
    if (split) throw new Error(`${scenario.name}: ${split}`);
    const points = batchPoints(listing.run);
    report.operations = points.filter((point): point is FsOp => point !== 'answered');
    report.points = points.length;
    for (const point of choosePoints(points, choice, scenario.name)) {
      w.reset();
      const problems = await tryBatchPoint(scenario, w, context, point, report);
      report.tried++;
      for (const problem of problems) report.problems.push(`${scenario.name} killed at ${describeBatchPoint(point)}: ${problem}`);
    }
  } finally {
    w.dispose();
    fs.rmSync(context.scratch, {recursive: true, force: true});
  }
  return report;
}

export function describeBatchPoint(point: BatchPoint): string {
  return point === 'answered' ? 'the end of the batch (every answer in)' : describePoint(point);
}

async function tryBatchPoint(scenario: BatchScenario, w: CrashWorld, context: TraceContext, point: BatchPoint, report: BatchReport): Promise<string[]> {
  const killed = await serveBatch(context, w.p, scenario.mvol, scenario.requests, point);
  const problems = [...killed.failures];
  const landed = point === 'answered' ? killed.run.signal === 'SIGKILL' && killed.answered.every(Boolean) : stoppedAt(killed.run, point);
  if (!landed) return [...problems, `the kill did not land there: ${killed.run.signal ?? `exit ${killed.run.code}`}, last operation ${killed.run.ops.at(-1)?.text ?? 'none'}`];
  if (inflightLeft(w.p).length > 0) report.leftInFlight++;
  for (const dir of [w.p, w.r]) {
    for (const finding of (await verifySite(dir)).findings) {
      const name = `${path.basename(dir)}: ${finding.check}`;
      report.findingsAfterKill.set(name, (report.findingsAfterKill.get(name) ?? 0) + 1);
    }
  }
  // The M-VOL holds the batch's first writes, in admission order (a pwrite is not torn by a kill), and every one answered.
  const model = cloneModel(w.model);
  const file = imageName('p', scenario.mvol);
  const writes = scenario.requests.flatMap((request, i) => request.kind === 'write' ? [{...request, answered: killed.answered[i]}] : []);
  const states = prefixes(model.images.get(file)!, writes);
  const reached = states.findIndex(state => state.equals(fs.readFileSync(path.join(w.root, file))));
  report.reached.push(reached);
  if (reached < 0) return [...problems, `${file} holds no prefix of the batch's writes in order`];
  const lost = writes.findIndex((write, i) => write.answered && i >= reached);
  if (lost >= 0) problems.push(`write ${lost} was answered but the M-VOL holds only the batch's first ${reached} writes`);
  model.images.set(file, states[reached]);
  problems.push(...await scenario.afterKill(w, model));
  problems.push(...await checkInvariants(w, model));
  for (const dir of [w.p, w.r]) {
    const left = inflightLeft(dir);
    if (left.length > 0) problems.push(`${path.basename(dir)}/${INFLIGHT_FILE} still has slots set: ${left.join(', ')}`);
  }
  return problems;
}

/**
 * Why a listing's requests did not form one batch, or undefined when they did: then
 * every write reached the M-VOL, in admission order, before anything reached the remote.
 */
function notOneBatch(listing: TracedRun, mvol: string, remote: string, requests: BatchRequest[]): string | undefined {
  const ops = listing.ops.slice(listing.beforeOutput);
  const onMvol = ops.flatMap((op, i) => op.path === mvol && op.call.startsWith('pwrite') ? [i] : []);
  const toRemote = ops.findIndex(op => op.path.startsWith(`${remote}/`) && op.changes);
  const writes = requests.filter(request => request.kind === 'write');
  if (onMvol.length !== writes.length) return `the M-VOL took ${onMvol.length} writes, not the batch's ${writes.length}`;
  const order = writes.map(write => `${write.data.length}, ${write.offset})`);
  if (onMvol.some((i, n) => !ops[i].text.endsWith(order[n]))) return 'the M-VOL took the writes in another order than they were sent';
  if (toRemote < 0 || toRemote < onMvol.at(-1)!) return 'the writes did not form one batch: the remote was written before the last of them reached the M-VOL';
  return undefined;
}

/** The image after none, one, … all of `writes`, in order. */
function prefixes(before: Buffer, writes: {offset: number; data: Buffer}[]): Buffer[] {
  const states = [Buffer.from(before)];
  for (const {offset, data} of writes) {
    const next = Buffer.from(states.at(-1)!);
    data.copy(next, offset);
    states.push(next);
  }
  return states;
}

/** Slots of a site's activity log that are set (or torn), as "slot N: LDEV l offset+length". */
export function inflightLeft(dir: string): string[] {
  const file = path.join(dir, INFLIGHT_FILE);
  if (!fs.existsSync(file)) return [];
  const bytes = fs.readFileSync(file);
  const left: string[] = [];
  for (let at = 0; at < bytes.length; at += INFLIGHT_SIZE) {
    const slot = decodeInflight(bytes.subarray(at, at + INFLIGHT_SIZE));
    if (slot === null) continue;
    left.push('reason' in slot ? `slot ${at / INFLIGHT_SIZE}: ${slot.reason}` : `slot ${at / INFLIGHT_SIZE}: LDEV ${slot.ldev} ${slot.offset}+${slot.length}`);
  }
  return left;
}

/**
 * A host's writes through a freshly started (untraced) serve, then a FLUSH and SIGTERM:
 * each must be answered and the server must stop cleanly. Returns problems.
 */
export async function serveWrites(site: string, ldev: number, writes: {offset: number; data: Buffer}[]): Promise<string[]> {
  const served = await launchServe(site, ['--vol', String(ldev)]);
  const problems: string[] = [];
  try {
    const client = await PipelinedClient.connect(served.port, String(ldev));
    const answers = [...writes.map(({offset, data}) => client.write(offset, data)), client.flush()];
    for (const [i, answer] of answers.entries()) {
      await answer.catch(error => problems.push(`the restarted serve's ${i === writes.length ? 'FLUSH' : `write ${i}`}: ${(error as Error).message}`));
    }
    await client.disconnect();
  } finally {
    const end = await stopServe(served);
    if (end === 'hung' || end.code !== 0) problems.push(`the restarted serve ${end === 'hung' ? 'hung on SIGTERM' : `exited ${end.code ?? end.signal}: ${end.stderr.trim()}`}`);
  }
  return problems;
}
