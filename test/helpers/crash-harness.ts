// The crash harness's runner: for one scenario, list the command's file-system
// operations, then for each chosen kill point put the starting state back, kill the
// command there, run the documented rerun and the next commands, and check the
// invariants against the model. Returns the problems found, one line each.
import fs from 'node:fs';
import path from 'node:path';
import {CrashWorld, cliAsync, cloneModel, parsed, temporariesUnder, type Model} from './crash-world.js';
import {Site} from '../../src/site/site.js';
import {marksInLog} from '../../src/mark/remote-marks.js';
import {restoreToMark} from '../../src/restore/restore.js';
import {verifySite} from '../../src/verify/verify.js';
import {describePoint, killCommandAt, killPoints, stoppedAt, traceCommand, type FsOp, type KillPoint, type TracedRun} from './crash-trace.js';

/** One CLI command of a rerun or of what follows it (run with --json). */
export interface Step {
  args: string[];
  input?: Buffer;
  /** Error codes that also count as success (the work was already done), besides exit 0. */
  accept?: string[];
  /** How the command changes the model when it succeeds or ends in an accepted code (`result` is its JSON). */
  apply?: (model: Model, result: any) => void;
}

export interface Scenario {
  name: string;
  /** Builds the starting state and its model (through the library). */
  build: (w: CrashWorld) => void | Promise<void>;
  /** The command killed at each of its operations (run with --json). */
  command: (w: CrashWorld) => string[];
  input?: Buffer;
  /** The documented rerun, or the next command an operator runs; it may look at the state left. */
  rerun: (w: CrashWorld) => Step[];
  /** How the command changes the model once the rerun finished its work; may report what it finds. */
  expect: (model: Model, w: CrashWorld) => string[] | void;
  /** Later commands (of the same kind where that makes sense): each must succeed, nothing is stuck. */
  next?: (w: CrashWorld) => Step[];
  /** Further invariants of this command, checked last. */
  check?: (w: CrashWorld, model: Model) => Promise<string[]>;
}

export interface ScenarioReport {
  ops: FsOp[];
  points: number;
  tried: number;
  problems: string[];
  /** verify findings right after a kill (before the rerun), by check name: what verify saw. */
  findingsAfterKill: Map<string, number>;
}

export interface Choice {
  all: boolean;
  sample: number;
  seed: number;
}

/** Which kill points to try: all of them, or the first, the last and a seeded sample between. */
export function choosePoints<T>(points: T[], choice: Choice, salt: string): T[] {
  if (choice.all || points.length <= choice.sample) return points;
  let state = (choice.seed ^ [...salt].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619), 2166136261)) >>> 0;
  const random = () => {
    state = (Math.imul(state ^ (state >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
    return state / 4294967296;
  };
  const chosen = new Set([0, points.length - 1]);
  while (chosen.size < choice.sample) chosen.add(1 + Math.floor(random() * (points.length - 2)));
  return [...chosen].sort((a, b) => a - b).map(i => points[i]);
}

export async function runScenario(scenario: Scenario, base: string, choice: Choice): Promise<ScenarioReport> {
  const slug = scenario.name.replace(/[^a-z0-9]+/gi, '-');
  const w = new CrashWorld(path.join(base, slug));
  const scratch = `${w.root}.scratch`;
  fs.mkdirSync(scratch, {recursive: true});
  const context = {root: w.root, scratch, input: scenario.input};
  const report: ScenarioReport = {ops: [], points: 0, tried: 0, problems: [], findingsAfterKill: new Map()};
  try {
    await scenario.build(w);
    w.save();
    const args = [...scenario.command(w), '--json'];
    const listing = await traceCommand(context, args);
    if (listing.code !== 0) throw new Error(`${scenario.name}: the command fails from its starting state (exit ${listing.code}): ${listing.stdout}${listing.stderr}`);
    report.ops = listing.ops;
    const points = killPoints(listing.ops);
    report.points = points.length;
    for (const point of choosePoints(points, choice, scenario.name)) {
      w.reset();
      const problems = await tryPoint(scenario, w, context, args, point, report);
      report.tried++;
      for (const problem of problems) report.problems.push(`${scenario.name} killed at ${describePoint(point)}: ${problem}`);
    }
  } finally {
    w.dispose();
    fs.rmSync(scratch, {recursive: true, force: true});
  }
  return report;
}

async function tryPoint(scenario: Scenario, w: CrashWorld, context: {root: string; scratch: string; input?: Buffer}, args: string[], point: KillPoint, report: ScenarioReport): Promise<string[]> {
  const problems: string[] = [];
  const killed = await killCommandAt(context, args, point);
  if (!stoppedAt(killed, point)) {
    return [`the kill did not land there: ${killed.signal ?? `exit ${killed.code}`}, last operation ${describeLast(killed)}`];
  }
  for (const dir of [w.p, w.r]) {
    for (const finding of (await verifySite(dir)).findings) {
      const name = `${path.basename(dir)}: ${finding.check}`;
      report.findingsAfterKill.set(name, (report.findingsAfterKill.get(name) ?? 0) + 1);
    }
  }
  const model = cloneModel(w.model);
  for (const step of scenario.rerun(w)) {
    const failed = await runStep(step, model);
    if (failed) return [...problems, `rerun ${failed}`];
  }
  problems.push(...(scenario.expect(model, w) ?? []));
  for (const step of scenario.next?.(w) ?? []) {
    const failed = await runStep(step, model);
    if (failed) return [...problems, `next command ${failed}`];
  }
  problems.push(...await checkInvariants(w, model));
  if (scenario.check) problems.push(...await scenario.check(w, model));
  return problems;
}

function describeLast(run: TracedRun): string {
  const last = run.ops.at(-1);
  return last ? describePoint(last) : 'none';
}

/** Runs a step; returns why it failed, or undefined. */
async function runStep(step: Step, model: Model): Promise<string | undefined> {
  const result = await cliAsync([...step.args, '--json'], step.input);
  const json = parsed(result);
  if (result.code === 0) {
    step.apply?.(model, json);
    return undefined;
  }
  const code = json?.error?.code;
  if (code && step.accept?.includes(code)) {
    step.apply?.(model, json);
    return undefined;
  }
  return `\`marklog ${step.args.join(' ')}\` exited ${result.code}: ${code ?? ''} ${json?.error?.message ?? result.stderr.trim().split('\n')[0] ?? ''}`;
}

/** The invariants every scenario shares (and the serve batch's, test/reliability/crash-serve-batch.test.ts). */
export async function checkInvariants(w: CrashWorld, model: Model): Promise<string[]> {
  const problems: string[] = [];
  const verdicts = await Promise.all([w.p, w.r].map(dir => cliAsync(['verify', '--site', dir, '--json'])));
  for (const [i, result] of verdicts.entries()) {
    if (result.code === 0) continue;
    const findings = parsed(result)?.findings?.map((f: {check: string; where: string; message: string}) => `${f.check} (${f.where}): ${f.message}`);
    problems.push(`verify at ${i === 0 ? 'the primary' : 'the remote'} exited ${result.code}: ${findings?.join('; ') ?? result.stderr}`);
  }
  const left = temporariesUnder(w.root);
  if (left.length > 0) problems.push(`temporaries left behind: ${left.join(', ')}`);
  for (const [file, expected] of model.images) {
    const problem = compareImage(path.join(w.root, file), expected);
    if (problem) problems.push(`${file}: ${problem}`);
  }
  if (model.members.length > 0) problems.push(...await checkMarks(w, model));
  return problems;
}

/**
 * Every mark the remote's log holds is one the model knows, every one it knows is
 * there, and each restores byte for byte. Read and restored through the library
 * (the functions behind `mark list` and `restore`), in this process: a CLI start
 * for each would double the harness's time.
 */
async function checkMarks(w: CrashWorld, model: Model): Promise<string[]> {
  const problems: string[] = [];
  const remote = Site.open(w.r);
  try {
    let listed: number[];
    try {
      listed = marksInLog(remote, 1).map(mark => mark.markId);
    } catch (error) {
      return model.marks.size > 0 ? [`the remote's marks cannot be read: ${(error as Error).message}`] : [];
    }
    const unexpected = listed.filter(id => !model.marks.has(id));
    const missing = [...model.marks.keys()].filter(id => !listed.includes(id));
    if (unexpected.length > 0) problems.push(`marks in the log that the model does not hold: ${unexpected.join(', ')}`);
    if (missing.length > 0) problems.push(`acknowledged marks no longer in the log: ${missing.join(', ')}`);
    for (const id of listed.filter(i => model.marks.has(i))) {
      for (const [rvol, expected] of model.marks.get(id)!) {
        const file = path.join(`${w.root}.scratch`, `check-${id}-${rvol}.img`);
        fs.rmSync(file, {force: true});
        try {
          await restoreToMark(remote, {group: 1, markId: id, rvol, target: {kind: 'file', path: file}});
          const problem = compareImage(file, expected);
          if (problem) problems.push(`restore to mark ${id} (R-VOL ${rvol}): ${problem}`);
        } catch (error) {
          problems.push(`restore to mark ${id} (R-VOL ${rvol}) refused: ${(error as {code?: string}).code ?? ''} ${(error as Error).message}`);
        } finally {
          fs.rmSync(file, {force: true});
        }
      }
    }
  } finally {
    remote.close();
  }
  return problems;
}

export function compareImage(file: string, expected: Buffer): string | undefined {
  let actual: Buffer;
  try {
    actual = fs.readFileSync(file);
  } catch (error) {
    return `cannot be read (${(error as NodeJS.ErrnoException).code})`;
  }
  if (actual.length !== expected.length) return `${actual.length} bytes, expected ${expected.length}`;
  if (actual.equals(expected)) return undefined;
  let at = 0;
  while (actual[at] === expected[at]) at++;
  return `differs from the model from byte ${at}`;
}
