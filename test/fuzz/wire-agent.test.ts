// Fuzzing `marklog agent` at the link level (docs/WIRE.md §2, §4, §5, §7): sessions
// with a real remote site, each an Agent in this process on a pair of streams (two
// pipes or one connection). Most carry bursts of well-formed requests whose
// arguments are damaged (test/helpers/agent-requests.ts): each must be answered by
// one RESPONSE or ERROR with its id, every ERROR typed, and the session must go on.
// The others damage one frame in the middle of a session (bit flips, truncation,
// CRCs, header fields past their limits, a second HELLO, a frame only the agent
// sends): the requests before it are answered, then one ERROR with id 0 and the
// code the page gives, then the end. After the run the site passes verify, and its
// volumes hold exactly what a model of the requests answered with RESPONSE says.
// Seeded: MARKLOG_FUZZ_SEED replays a run, MARKLOG_FUZZ_SCALE makes it longer.
import fs from 'node:fs';
import path from 'node:path';
import type {ExecutionContext} from 'ava';
import {NEW_SESSION} from '../../src/format/wire-bodies.js';
import {rebuildableCodes} from '../../src/format/wire-errors.js';
import {encodeFrame, type WireFrame} from '../../src/format/wire-frame.js';
import {methodName, WireMethod} from '../../src/format/wire-methods.js';
import {initSite} from '../../src/site/site-admin.js';
import {Site} from '../../src/site/site.js';
import {verifySite} from '../../src/verify/verify.js';
import {createVolume} from '../../src/volume/volume-admin.js';
import {Rng, caseCount, describe, fuzzSuite, isTyped, mutate, preview, type Ledger} from '../helpers/fuzz.js';
import {scratchDir} from '../helpers/fuzz-sites.js';
import {headerFields, repairCrcs} from '../helpers/wire-spec.js';
import {PRIMARY, learn, planRequest, requestFrame, sessionEnded, type Knowledge, type Planned, type Volume} from '../helpers/agent-requests.js';
import {agentReading, VolumeModel, type Reading} from '../helpers/agent-model.js';
import {AgentSession, type Settled, type Transport} from '../helpers/agent-session.js';
import type {Answer} from '../helpers/wire-client.js';

const MiB = 1024 * 1024;
/** The codes an ERROR may carry: each has its class in src/errors.ts (REMOTE_INTERNAL is a client's name for an agent's untyped failure). */
const TYPED = new Set(rebuildableCodes().filter(code => code !== 'REMOTE_INTERNAL'));
/** The codes of the ERROR that ends a connection over a frame it cannot read or does not allow (WIRE.md §3.5, §8). */
const CONNECTION_CODES = new Set(['WIRE_CORRUPT', 'WIRE_VERSION', 'WIRE_TOO_LARGE', 'WIRE_PROTOCOL', 'REMOTE_UNREACHABLE']);
const READS = new Set<number>([WireMethod.readRvol, WireMethod.describeVolume, WireMethod.describePair, WireMethod.findImage, WireMethod.listMarks, WireMethod.flushRvol, WireMethod.close]);
const TRANSPORTS: Transport[] = ['pipes', 'connection'];
/** Time for a burst to be answered, and for an agent to settle: far more than either takes. */
const PATIENCE_MS = 10_000;

const PROPERTIES = [
  'every request is answered by exactly one RESPONSE or ERROR with its id, method and ack, every PING by its PONG, and the session goes on after an ERROR',
  'every ERROR carries a code that src/errors.ts has a class for, never INTERNAL',
  'a damaged or forbidden frame is met, after the answers before it, by one ERROR with id 0 and the code WIRE.md gives, and nothing after it',
  'the agent settles in time, resolved after a clean end and rejected with the typed error it sent otherwise, and nothing escapes unhandled',
  'the site still opens and passes verify after the run, but for what the answered requests explain',
  'every read, and at the end every volume, holds what the model of the requests answered with RESPONSE says',
];

interface Run {
  seed: number;
  ledger: Ledger;
  dir: string;
  siteId: string;
  k: Knowledge;
  model: VolumeModel;
  /** The last requests answered with RESPONSE that are no reads: what changed the site, should it stop opening. */
  changes: string[];
  stats: {requests: number; damagedArgs: number; damagedSessions: number; sessions: Record<Transport, number>; answers: Map<string, number>; responses: Map<string, number>; endings: Map<string, number>; slowest: number};
}

/** A remote site: an R-VOL candidate, a spare, a volume larger than one frame holds, and a pool volume for a log group's log. */
function remoteSite(t: ExecutionContext): {dir: string; id: string; volumes: Volume[]} {
  const dir = path.join(scratchDir(t, 'marklog-agent-fuzz-'), 'osaka');
  const {id} = initSite({dir, role: 'remote'});
  const site = Site.open(dir);
  try {
    const shapes = [{capacity: MiB, pool: false}, {capacity: 256 * 1024, pool: false}, {capacity: 20 * MiB, pool: false}, {capacity: MiB, pool: true}];
    return {dir, id, volumes: shapes.map(({capacity, pool}) => ({ldev: createVolume(site, capacity, pool).ldev, capacity, pool}))};
  } finally {
    site.close();
  }
}

function helloFrame(site: string): Buffer {
  return encodeFrame({type: 'hello', ack: 0, hello: {protocol: {min: 1, max: 1}, session: NEW_SESSION, client: PRIMARY, site}});
}

function answerTo(session: AgentSession, id: number): Answer | undefined {
  return session.frames.find((f): f is Answer => (f.type === 'response' || f.type === 'error') && f.id === id);
}

/** A request's arguments in a failure message, with deep nesting counted rather than shown. */
function brief(json: unknown): string {
  const text = JSON.stringify(json) ?? 'none';
  return text.replace(/\[{8,}/g, m => `[×${m.length}`).replace(/\]{8,}/g, m => `]×${m.length}`).slice(0, 400);
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** Opens a session and says HELLO; undefined (and a violation) if the site no longer opens or no WELCOME comes. */
async function open(run: Run, index: number, rng: Rng): Promise<AgentSession | undefined> {
  const transport = rng.pick(TRANSPORTS);
  let session: AgentSession;
  try {
    session = new AgentSession(run.dir, transport);
  } catch (error) {
    run.ledger.fail(PROPERTIES[4], index, `the agent could not open the site: ${describe(error)}; the last changes: ${run.changes.join(' | ')}`);
    return undefined;
  }
  run.stats.sessions[transport]++;
  // The client may not know the site yet (its first link), or name it.
  session.send(helloFrame(rng.chance(0.5) ? run.siteId : ''));
  const welcomed = await session.until(() => session.frames.length > 0, PATIENCE_MS);
  if (!welcomed || session.frames[0].type !== 'welcome') {
    run.ledger.fail(PROPERTIES[0], index, `no WELCOME: ${JSON.stringify(session.frames[0] ?? null).slice(0, 300)}; ${session.logs.join(' | ')}`);
    session.destroy();
    return undefined;
  }
  return session;
}

/** The answers to the requests a reading expects, in id order, taken into the model and what the client knows. */
function takeAnswers(run: Run, index: number, session: AgentSession, reading: Reading, steps: Map<number, string[]>): void {
  for (const request of reading.requests) {
    const answer = answerTo(session, request.id);
    if (!answer) continue;
    count(run.stats.answers, answer.type === 'error' ? answer.error.code : 'RESPONSE');
    if (answer.type !== 'error') count(run.stats.responses, methodName(answer.method) ?? String(answer.method));
    const wrong = run.model.take(request, answer);
    run.ledger.check(PROPERTIES[5], index, wrong === undefined, () => `${wrong}; request ${request.id}: ${(steps.get(request.id) ?? ['(a damaged frame)']).join('; ')}`);
    learn(run.k, request, answer);
    if (answer.type === 'response' && !READS.has(request.method)) {
      run.changes = [...run.changes.slice(-5), `case ${index} request ${request.id}: ${methodName(request.method)} ${brief(request.json)}`];
    }
  }
}

/** A session of well-formed requests in bursts; each burst is answered before the next is planned from what it taught. */
async function requestSession(run: Run, index: number, rng: Rng): Promise<void> {
  const session = await open(run, index, rng);
  if (!session) return;
  const steps = new Map<number, string[]>();
  // Every frame is well formed, so the agent reads what was sent: a frame it refused would show as an ERROR with id 0.
  const reading: Reading = {requests: [], pings: []};
  let id = 0;
  const bursts = rng.range(1, 6);
  const ending = rng.pick(['bye', 'end of input', 'close, then bye']);
  for (let burst = 0; burst < bursts; burst++) {
    const first = id + 1;
    const frames: Buffer[] = [];
    const burstReading: Reading = {requests: [], pings: []};
    const add = (planned: Planned) => {
      frames.push(requestFrame(++id, first - 1, planned));
      steps.set(id, planned.steps);
      burstReading.requests.push({id, method: planned.method, json: planned.text === undefined ? undefined : JSON.parse(planned.text), binary: planned.binary});
    };
    const n = rng.range(1, 16);
    for (let i = 0; i < n; i++) {
      const planned = planRequest(rng, run.k);
      add(planned);
      run.stats.requests++;
      if (planned.steps.length > 1) run.stats.damagedArgs++;
      if (rng.chance(0.05)) {
        const token = rng.safe();
        frames.push(encodeFrame({type: 'ping', id: token, ack: first - 1}));
        burstReading.pings.push(token);
      }
    }
    if (burst === bursts - 1 && ending === 'close, then bye') add({method: WireMethod.close, text: '{}', binary: Buffer.alloc(0), steps: ['close']});
    reading.requests.push(...burstReading.requests);
    reading.pings.push(...burstReading.pings);
    const bytes = Buffer.concat(frames);
    session.send(bytes, rng);
    const last = id;
    if (!await session.until(() => answerTo(session, last) !== undefined, PATIENCE_MS)) break;
    takeAnswers(run, index, session, burstReading, steps);
  }
  if (ending === 'end of input') session.endInput();
  else session.send(encodeFrame({type: 'bye', ack: id}));
  const settled = await session.settle(PATIENCE_MS);
  checkSession(run, index, session, reading, settled, steps, () => `${bursts} bursts, ${ending}, ${session.transport}`);
  sessionEnded(run.k);
  run.model.sessionEnded();
  session.destroy();
}

/** A frame the agent must refuse, or damaged bytes that may still read as frames; `next` is the id a request would take. */
function badFrame(rng: Rng, run: Run, next: number): {bytes: Buffer; what: string} {
  const kind = rng.pick(['mutate', 'mutate', 'mutate', 'mutate', 'mutate', 'truncate', 'second hello', 'agent frame', 'client error', 'id out of order']);
  switch (kind) {
    case 'mutate': {
      const base = rng.pick(['request', 'request', 'request', 'ping', 'pong', 'bye'] as const);
      const frame = base === 'request' ? requestFrame(next, 0, planRequest(rng, run.k, true))
        : encodeFrame(base === 'bye' ? {type: base, ack: 0} : {type: base, id: rng.safe(), ack: 0});
      const mutated = mutate(rng, frame, {fields: headerFields(0), focus: rng.chance(0.5) ? [{from: 0, to: 40}] : undefined, maxSteps: 3});
      let what = `${base}: ${mutated.steps.join('; ')}`;
      if (rng.chance(0.5)) {
        const header = rng.chance(0.8);
        const body = !header || rng.chance(0.6);
        repairCrcs(mutated.bytes, header, body);
        what += `; CRCs repaired (${[header ? 'header' : '', body ? 'body' : ''].filter(Boolean).join(', ')})`;
      }
      return {bytes: mutated.bytes, what};
    }
    case 'truncate': {
      const frame = requestFrame(next, 0, planRequest(rng, run.k, true));
      const length = rng.range(1, frame.length - 1);
      return {bytes: frame.subarray(0, length), what: `request cut to ${length} of ${frame.length} bytes`};
    }
    case 'second hello':
      return {bytes: helloFrame(rng.chance(0.5) ? run.siteId : ''), what: kind};
    case 'agent frame': {
      const frame: WireFrame = rng.pick<WireFrame>([
        {type: 'welcome', ack: 0, welcome: {protocol: 1, session: '5c1e0a97d3b24f68', site: {id: run.siteId, name: 'osaka', role: 'remote'}}},
        {type: 'response', id: next, method: WireMethod.describeVolume, ack: 0, json: null},
        {type: 'error', id: next, method: WireMethod.writeRvol, ack: 0, error: {code: 'LOG_FULL', message: 'full'}},
      ]);
      return {bytes: encodeFrame(frame), what: `a ${frame.type.toUpperCase()} from the client`};
    }
    case 'client error':
      return {bytes: encodeFrame({type: 'error', id: 0, method: 0, ack: 0, error: {code: 'WIRE_CORRUPT', message: 'the client gives up'}}), what: 'an ERROR with id 0 from the client'};
    default: {
      const id = rng.pick([next + 1, next + 1000, Number.MAX_SAFE_INTEGER, Math.max(1, next - 1)]);
      return {bytes: requestFrame(id, 0, planRequest(rng, run.k, true)), what: `request ${id} where ${next} was due`};
    }
  }
}

/** A session with one bad frame after a few requests and PINGs, and maybe frames after it that must never be read. */
async function damagedSession(run: Run, index: number, rng: Rng): Promise<void> {
  const session = await open(run, index, rng);
  if (!session) return;
  run.stats.damagedSessions++;
  const steps = new Map<number, string[]>();
  const frames: Buffer[] = [];
  let id = 0;
  for (let i = rng.int(6); i > 0; i--) {
    const planned = planRequest(rng, run.k);
    frames.push(requestFrame(++id, 0, planned));
    steps.set(id, planned.steps);
    run.stats.requests++;
    if (planned.steps.length > 1) run.stats.damagedArgs++;
    if (rng.chance(0.2)) frames.push(encodeFrame({type: 'ping', id: rng.safe(), ack: 0}));
  }
  const bad = badFrame(rng, run, id + 1);
  frames.push(bad.bytes);
  for (let i = rng.int(3); i > 0; i--) frames.push(requestFrame(id + 1 + i, 0, planRequest(rng, run.k, true)));
  const stream = Buffer.concat(frames);
  const reading = agentReading(stream, 0);
  session.send(stream, rng);
  // An agent must end by itself after a frame it refuses; a stream cut inside a frame, or one that read cleanly, needs its end.
  const endsByItself = reading.code !== undefined && reading.code !== 'REMOTE_UNREACHABLE' && rng.chance(0.5);
  if (!endsByItself) session.endInput();
  const settled = await session.settle(PATIENCE_MS);
  count(run.stats.endings, reading.code ?? 'clean end');
  takeAnswers(run, index, session, reading, steps);
  checkSession(run, index, session, reading, settled, steps, () => `${bad.what}; ${session.transport}${endsByItself ? '' : ', input ended'}; stream ${preview(stream, 160)}`);
  sessionEnded(run.k);
  run.model.sessionEnded();
  session.destroy();
}

function checkSession(run: Run, index: number, session: AgentSession, reading: Reading, settled: Settled, steps: Map<number, string[]>, context: () => string): void {
  const {ledger} = run;
  run.stats.slowest = Math.max(run.stats.slowest, settled.ms);
  const [, ...frames] = session.frames;
  const answers = frames.filter((f): f is Answer => (f.type === 'response' || f.type === 'error') && f.id !== 0);
  const about = (id: number) => `request ${id} (${(steps.get(id) ?? [methodName(reading.requests.find(r => r.id === id)?.method ?? 0) ?? 'a damaged frame']).join('; ')})`;
  ledger.check(PROPERTIES[0], index, session.decodeError === undefined, () => `the agent's frames do not decode: ${describe(session.decodeError)}; ${context()}`);
  for (const request of reading.requests) {
    const mine = answers.filter(a => a.id === request.id);
    ledger.check(PROPERTIES[0], index, mine.length === 1 && mine[0].method === request.method && mine[0].ack === request.id,
      () => `${about(request.id)} got ${mine.length} answers: ${JSON.stringify(mine.map(a => ({type: a.type, method: a.method, ack: a.ack})))}; ${context()}`, mine.length === 1 ? 'wrong method or ack' : `${mine.length} answers`);
  }
  const strays = answers.filter(a => !reading.requests.some(r => r.id === a.id));
  ledger.check(PROPERTIES[0], index, strays.length === 0, () => `answers to requests never read: ${strays.map(a => a.id).join(', ')}; ${context()}`, 'stray answers');
  const pongs = frames.filter(f => f.type === 'pong').map(f => (f as {id: number}).id).sort();
  ledger.check(PROPERTIES[0], index, JSON.stringify(pongs) === JSON.stringify([...reading.pings].sort()), () => `PINGs ${reading.pings.join(', ')}, PONGs ${pongs.join(', ')}; ${context()}`, 'pongs');
  const others = frames.filter(f => !['response', 'error', 'pong'].includes(f.type));
  ledger.check(PROPERTIES[0], index, others.length === 0, () => `frames the agent may not send here: ${others.map(f => f.type).join(', ')}; ${context()}`, 'other frames');
  for (const error of answers.filter(a => a.type === 'error')) {
    const {code} = (error as Extract<WireFrame, {type: 'error'}>).error;
    ledger.check(PROPERTIES[1], index, TYPED.has(code), () => `${about(error.id)}: ${code}: ${(error as Extract<WireFrame, {type: 'error'}>).error.message.split('\n').slice(0, 4).join(' ')}`, `${code} from ${methodName(error.method)}`);
  }
  const endings = frames.filter((f): f is Extract<WireFrame, {type: 'error'}> => f.type === 'error' && f.id === 0);
  const ended = endings.map(e => e.error.code).join(', ') || 'no ERROR with id 0';
  if (reading.code === undefined) {
    ledger.check(PROPERTIES[2], index, endings.length === 0, () => `a clean end expected, the agent sent ${ended}; ${context()}`, 'clean vs error');
  } else {
    ledger.check(PROPERTIES[2], index, endings.length === 1 && endings[0].error.code === reading.code && CONNECTION_CODES.has(reading.code) && frames.at(-1) === endings[0],
      () => `${reading.code} expected after ${reading.requests.length} requests, the agent sent ${ended}${endings.length === 1 && frames.at(-1) !== endings[0] ? ' and frames after it' : ''}; ${context()}`, `${reading.code} vs ${ended}`);
  }
  const outcome = !settled.inTime ? 'still running' : settled.error === undefined ? 'resolved' : describe(settled.error);
  const fits = settled.inTime && (reading.code === undefined ? settled.error === undefined : isTyped(settled.error) && settled.error.code === reading.code);
  ledger.check(PROPERTIES[3], index, fits, () => `done ${outcome} after ${Math.round(settled.ms)} ms, ${reading.code ?? 'a clean end'} expected; ${context()}`, settled.inTime ? 'wrong outcome' : 'hang');
  for (const line of session.logs) ledger.fail(PROPERTIES[1], index, `the agent logged an untyped failure: ${line.split('\n').slice(0, 6).join(' ')}`, 'agent log');
}

/** Findings a site shows after requests a primary may send: a base changed by a write, a gap the client reported. */
function explained(model: VolumeModel, finding: {check: string; where: string}): boolean {
  return model.explained.has(keyOf(finding));
}

/** A finding as the model names what it explains: `base-changed G X`, `log-gap G`. */
function keyOf(finding: {check: string; where: string}): string {
  const base = /^log group (\d+), R-VOL (\d+)$/.exec(finding.where);
  if (finding.check === 'base-changed' && base) return `base-changed ${base[1]} ${base[2]}`;
  const gap = /^log group (\d+)$/.exec(finding.where);
  if (finding.check === 'log-gap' && gap) return `log-gap ${gap[1]}`;
  return `${finding.check} at ${finding.where}`;
}

async function checkSiteAfter(run: Run, note: (line: string) => void): Promise<void> {
  const {ledger, model} = run;
  try {
    const result = await verifySite(run.dir);
    const unexplained = result.findings.filter(f => !explained(model, f));
    note(`verify: ${result.findings.length} findings (${result.findings.map(f => f.check).join(', ') || 'none'}), ${unexplained.length} unexplained; ${model.baseChanges.size} changed bases it must show`);
    ledger.check(PROPERTIES[4], -1, unexplained.length === 0,
      () => `verify: ${JSON.stringify(unexplained.slice(0, 4))}; requests that changed a log or pool volume: ${model.logVolumeChanges.slice(0, 5).join(' | ') || 'none'}`);
    // A base that changed unseen would let a restore apply its log onto other bytes.
    const unseen = [...model.baseChanges].filter(key => !result.findings.some(f => keyOf(f) === key));
    ledger.check(PROPERTIES[4], -1, unseen.length === 0, () => `verify does not show what answered requests did: ${unseen.join(', ')}`);
  } catch (error) {
    ledger.fail(PROPERTIES[4], -1, `verify failed: ${describe(error)}`);
    return;
  }
  let site: Site;
  try {
    site = Site.open(run.dir);
  } catch (error) {
    ledger.fail(PROPERTIES[4], -1, `the site no longer opens: ${describe(error)}; the last changes: ${run.changes.join(' | ')}`);
    return;
  }
  try {
    const tables = site.tables();
    for (const ldev of model.ldevs) {
      const row = tables.volumes.find(v => v.ldev === ldev);
      const held = row ? fs.readFileSync(site.path(row.image)) : Buffer.alloc(0);
      const expected = model.expected(ldev);
      const at = held.equals(expected) ? -1 : expected.findIndex((b, i) => held[i] !== b);
      ledger.check(PROPERTIES[5], -1, at < 0, () => `LDEV ${ldev} (${held.length} bytes) differs from the model (${expected.length} bytes) first at byte ${at}`);
    }
  } finally {
    site.close();
  }
}

fuzzSuite('wire agent', PROPERTIES, async ({seed, ledger, note, t}) => {
  // Mutated frames: requests with damaged arguments, and the one damaged frame of each damaged session.
  const mutatedFrames = caseCount(10_000);
  const damagedCases = caseCount(1_000);
  const {dir, id: siteId, volumes} = remoteSite(t);
  const rvol = volumes[0].ldev;
  const k: Knowledge = {volumes, rvol, claim: {pair: 1, primarySite: PRIMARY, mvol: 4}, reserved: [], transfers: [], closed: [], groups: [], tokens: [], nextMarkId: 1};
  const run: Run = {
    seed, ledger, dir, siteId, k, model: new VolumeModel(volumes), changes: [],
    stats: {requests: 0, damagedArgs: 0, damagedSessions: 0, sessions: {pipes: 0, connection: 0}, answers: new Map(), responses: new Map(), endings: new Map(), slowest: 0},
  };
  const escaped: unknown[] = [];
  const onEscape = (error: unknown) => escaped.push(error);
  process.on('unhandledRejection', onEscape);
  process.on('uncaughtException', onEscape);
  try {
    // The R-VOL is reserved first, by a valid request, so that writes land from the first session on.
    const setup = await open(run, -1, new Rng(seed, 0x7fff_ffff));
    if (!setup) return;
    setup.send(requestFrame(1, 0, {method: WireMethod.reserveRvol, text: JSON.stringify({ldev: rvol, claim: k.claim, minCapacity: volumes[0].capacity}), binary: Buffer.alloc(0), steps: []}));
    await setup.until(() => answerTo(setup, 1) !== undefined, PATIENCE_MS);
    ledger.check(PROPERTIES[0], -1, answerTo(setup, 1)?.type === 'response', () => `the R-VOL was not reserved: ${JSON.stringify(answerTo(setup, 1) ?? null)}`);
    setup.endInput();
    await setup.settle(PATIENCE_MS);
    setup.destroy();
    // Sessions of both kinds interleave, so damaged frames meet a site in every state the requests leave it in.
    const mutated = () => run.stats.damagedArgs + run.stats.damagedSessions;
    // About this many mutated frames in a session of requests.
    const perSession = 22;
    for (let index = 0; mutated() < mutatedFrames || run.stats.damagedSessions < damagedCases; index++) {
      const rng = new Rng(seed, index);
      const mutatedLeft = mutatedFrames - mutated();
      const damagedLeft = damagedCases - run.stats.damagedSessions;
      const damaged = damagedLeft > 0 && (mutatedLeft <= 0 || rng.chance(damagedLeft / (damagedLeft + mutatedLeft / perSession)));
      if (damaged) await damagedSession(run, index, rng);
      else await requestSession(run, index, rng);
      ledger.cases = run.stats.requests + run.stats.damagedSessions;
      if (ledger.count(PROPERTIES[4]) > 0) break;
    }
  } finally {
    process.off('unhandledRejection', onEscape);
    process.off('uncaughtException', onEscape);
  }
  ledger.check(PROPERTIES[3], -1, escaped.length === 0, () => `escaped: ${escaped.slice(0, 3).map(describe).join(' | ')}`);
  const {stats} = run;
  note(`${stats.damagedArgs + stats.damagedSessions} mutated frames: ${stats.requests} requests (${stats.damagedArgs} with damaged arguments) and ${stats.damagedSessions} sessions with a damaged frame; transports ${JSON.stringify(stats.sessions)}; slowest session ${Math.round(stats.slowest)} ms`);
  note(`answers: ${JSON.stringify(Object.fromEntries([...stats.answers].sort((a, b) => b[1] - a[1])))}`);
  note(`RESPONSEs by method: ${JSON.stringify(Object.fromEntries([...stats.responses].sort((a, b) => b[1] - a[1])))}`);
  note(`damaged sessions ended: ${JSON.stringify(Object.fromEntries(stats.endings))}`);
  await checkSiteAfter(run, note);
});
