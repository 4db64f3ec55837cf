// Issue 14, item 3: marks while serving. A mark issued by another process (`marklog mark`
// from cron or an application's hook) while a host writes through `marklog serve` with
// many requests in flight is a barrier, as dm-log-writes' marks are: it lands in the log
// after every write acknowledged before the mark was issued, and before every write sent
// after the mark command returned. Writes in flight meanwhile may fall on either side.
// A host of the tests' own (test/helpers/barrier-host.ts) keeps 16 writes in flight on
// each of two connections, every 4 KiB naming its write; the marks are `marklog mark`
// processes spawned while it writes, timed on the same clock as its sends and replies.
// MARKLOG_TEST_SEED fixes the random choices (block counts and places, pauses); which writes
// race a mark is the machine's timing, so a failure names the writes it saw.
import fs from 'node:fs';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {cliJson, cliSpawn} from '../helpers/cli.js';
import {BLOCK, BarrierHost, now, writeName, type HostWrite, type Writer} from '../helpers/barrier-host.js';
import {Rng} from '../helpers/fuzz.js';
import {loggingSites, type LoggingSites, type MarkResult} from '../helpers/logging.js';
import {PipelinedClient} from '../helpers/nbd-pipelined-client.js';
import {exited, sleep, type Exit} from '../helpers/processes.js';
import {serve, stopServe} from '../helpers/serve.js';
import {imagePath} from '../helpers/sites.js';
import {Journal} from '../../src/log/journal.js';
import {findGroup} from '../../src/log/remote-log.js';
import {Site} from '../../src/site/site.js';

const SEED = Number(process.env.MARKLOG_TEST_SEED ?? Date.now() % 100_000);
const CONNECTIONS = 2;
/** Writes in flight on each connection. */
const DEPTH = 16;
const MARKS = 6;
const VOLUME = '16M';

interface IssuedMark {
  markId: number;
  logId: number;
  /** Just before `marklog mark` was spawned, and once it had exited (the host's clock). */
  spawned: bigint;
  exited: bigint;
}

/**
 * `marklog mark --json` in a process of its own, as cron would run it, spawned the moment
 * the host next has every request in flight; the host keeps writing meanwhile.
 */
async function markFromAnotherProcess(primary: string, app: string, host: BarrierHost): Promise<IssuedMark> {
  let spawned = 0n;
  let exitedAt = 0n;
  const ending = await new Promise<Promise<Exit>>(resolve => host.whenFull(() => {
    spawned = now();
    const child = cliSpawn(['mark', '--site', primary, '--app', app, '--json']);
    child.on('exit', () => {
      exitedAt = now();
    });
    resolve(exited(child));
  }));
  const result = await ending;
  if (result.code !== 0) throw new Error(`marklog mark exited ${result.code ?? result.signal}: ${result.stderr}`);
  const {markId, logId} = JSON.parse(result.stdout) as MarkResult;
  return {markId, logId, spawned, exited: exitedAt};
}

/** The writes acknowledged before the mark was issued, those sent after it returned, and those in flight when it was issued. */
function around(host: BarrierHost, mark: IssuedMark) {
  const all = host.all();
  return {
    before: all.filter(w => w.acked! < mark.spawned),
    after: all.filter(w => w.sent > mark.exited),
    inFlight: all.filter(w => w.sent < mark.spawned && w.acked! > mark.spawned),
  };
}

interface Session {
  host: BarrierHost;
  marks: IssuedMark[];
  ms: number;
}

/**
 * The flow under test: serve the group's M-VOL, write with DEPTH requests in flight on each
 * of CONNECTIONS connections, issue MARKS marks from other processes at random pauses while
 * it writes, write on after the last one, then stop the host and the server.
 */
async function marksWhileWriting(t: ExecutionContext, sites: LoggingSites, seed: number): Promise<Session> {
  const {mvol} = sites.members[0];
  const rng = new Rng(seed, 1);
  const served = await serve(t, sites.primary);
  const clients = await Promise.all(Array.from({length: CONNECTIONS}, () => PipelinedClient.connect(served.port, String(mvol))));
  const host = new BarrierHost(clients, sites.capacity / BLOCK, sites.host.now(mvol), {depth: DEPTH, maxBlocks: 2, hot: 1024, paceMs: 6000, reserve: 256, seed});
  const started = Date.now();
  const writing = host.run();
  writing.catch(() => {});
  const marks: IssuedMark[] = [];
  await sleep(200);
  const hostStopped = writing.then(() => {
    throw new Error('the host stopped writing before the marks were issued');
  });
  hostStopped.catch(() => {});
  for (let i = 1; i <= MARKS; i++) {
    marks.push(await Promise.race([markFromAnotherProcess(sites.primary, `barrier-${i}`, host), hostStopped]));
    await sleep(rng.range(20, 100));
  }
  // Blocks written for the first time only now, after every mark returned.
  host.openReserve();
  await sleep(200);
  host.stop();
  await writing;
  const ms = Date.now() - started;
  for (const client of clients) await client.disconnect();
  t.like(await stopServe(served), {code: 0}, 'the server drains and exits 0');
  return {host, marks, ms};
}

/** The log at the remote in order: each write record's log ID by the write its bytes name, the mark records' log IDs, and records that are neither. */
function readLog(sites: LoggingSites, host: BarrierHost) {
  const remote = Site.open(sites.remote);
  try {
    const tables = remote.tables();
    const journal = Journal.open(remote, tables, findGroup(remote, tables, sites.group));
    const logIdOf = new Map<HostWrite, number>();
    const markAt = new Map<number, number>();
    const strays: string[] = [];
    const logIds: number[] = [];
    for (const {record} of journal.records(damage => strays.push(`damage: ${damage.reason} at ${damage.offset}`), {streaming: true})) {
      logIds.push(record.logId);
      if (record.kind === 'mark') {
        markAt.set(record.markId, record.logId);
        continue;
      }
      const write = record.kind === 'write' ? host.named(Buffer.from(record.data.subarray(0, 16)), record.address / BLOCK) : undefined;
      const length = record.kind === 'write' ? record.data.length : record.length;
      if (!write || record.address !== write.first * BLOCK || length !== write.count * BLOCK || logIdOf.has(write)) {
        strays.push(`log ID ${record.logId}: a ${record.kind} record at ${record.address} that is no write of the host's, or one seen twice`);
        continue;
      }
      logIdOf.set(write, record.logId);
    }
    return {logIdOf, markAt, strays, logIds};
  } finally {
    remote.close();
  }
}

/**
 * A command with --json in its own process, awaited without blocking this one's event loop
 * (another test's host may be writing meanwhile); its JSON, or the test fails with its stderr.
 */
async function marklog(t: ExecutionContext, args: string[]): Promise<any> {
  const result = await exited(cliSpawn([...args, '--json']));
  t.is(result.code, 0, `marklog ${args.join(' ')}: ${result.stderr}`);
  return JSON.parse(result.stdout || '{}');
}

const firstFew = (writes: HostWrite[]) => writes.slice(0, 5).map(writeName);

test('Fig. 19 while serving: a mark issued by another process while 32 writes are in flight on two connections lands in the log after every write acknowledged before it was issued and before every write sent after it returned, six times over', async t => {
  t.log(`seed ${SEED} (MARKLOG_TEST_SEED=${SEED} to replay)`);
  const sites = loggingSites(t, {size: VOLUME, logSize: '1G'});
  const {host, marks, ms} = await marksWhileWriting(t, sites, SEED);
  const all = host.all();
  t.true(all.every(w => w.acked !== undefined), 'every write was acknowledged');

  const log = readLog(sites, host);
  t.deepEqual(log.strays.slice(0, 5), [], 'the log holds the host\'s writes and the marks, nothing else, undamaged');
  t.deepEqual(log.logIds, log.logIds.map((_, i) => i + 1), 'log IDs run 1..N without a gap');
  t.is(log.logIdOf.size, all.length, 'every acknowledged write is in the log once');
  t.is(log.markAt.size, MARKS);
  for (const mark of marks) {
    t.is(log.markAt.get(mark.markId), mark.logId, `mark ${mark.markId}'s record has the log ID the command printed`);
    const {before, after, inFlight} = around(host, mark);
    // Either side is allowed for these: sent before it returned, not acknowledged before it was issued.
    const racing = host.all().filter(w => w.sent < mark.exited && w.acked! > mark.spawned);
    const racedAfter = racing.filter(w => log.logIdOf.get(w)! > mark.logId).length;
    t.log(`mark ${mark.markId} (log ID ${mark.logId}, ${(Number(mark.exited - mark.spawned) / 1e6).toFixed(0)} ms): ${before.length} writes acknowledged before it, `
      + `${after.length} sent after it returned; of the ${racing.length} between, ${racing.length - racedAfter} landed before it and ${racedAfter} after`);
    t.true(before.length > 0 && after.length > 0, `mark ${mark.markId} has writes on both sides`);
    t.is(inFlight.length, CONNECTIONS * DEPTH, `mark ${mark.markId} was issued with ${CONNECTIONS * DEPTH} writes in flight`);
    t.deepEqual(firstFew(before.filter(w => (log.logIdOf.get(w) ?? Infinity) > mark.logId)), [], `mark ${mark.markId}: no write acknowledged before it was issued is after it in the log`);
    t.deepEqual(firstFew(after.filter(w => log.logIdOf.get(w)! < mark.logId)), [], `mark ${mark.markId}: no write sent after it returned is before it in the log`);
  }
  t.log(`${all.length} writes in ${ms} ms, ${MARKS} marks`);
});

/** Who may hold `block` in the restore of `mark`: its last write acknowledged before the mark was issued (or the base), or one sent after that and before the mark returned. */
function allowedAt(host: BarrierHost, block: number, mark: IssuedMark): Writer[] {
  const writes = host.writesTo(block);
  let last = -1;
  writes.forEach((w, i) => {
    if (w.acked! < mark.spawned) last = i;
  });
  return [last >= 0 ? writes[last] : 'base', ...writes.slice(last + 1).filter(w => w.sent < mark.exited)];
}

test('Fig. 23 after marks taken while serving: each mark restores at the remote to every write acknowledged before it was issued, byte for byte, and to none sent after it returned', async t => {
  const seed = SEED + 1;
  t.log(`seed ${seed} (MARKLOG_TEST_SEED=${SEED} to replay)`);
  const sites = loggingSites(t, {size: VOLUME, logSize: '1G'});
  const {rvol} = sites.members[0];
  const {host, marks} = await marksWhileWriting(t, sites, seed);
  const log = readLog(sites, host);
  for (const mark of marks) {
    const file = path.join(sites.root, `mark-${mark.markId}.img`);
    await marklog(t, ['restore', '--site', sites.remote, '--group', String(sites.group), '--mark', String(mark.markId), '--rvol', String(rvol), '--to', file]);
    const image = fs.readFileSync(file);
    fs.rmSync(file);
    const outsideBarrier: string[] = [];
    const notTheLog: string[] = [];
    let exact = 0;
    let untouched = 0;
    for (let block = 0; block < host.blocks; block++) {
      const held = host.writerOf(block, image.subarray(block * BLOCK, (block + 1) * BLOCK));
      const allowed = allowedAt(host, block, mark);
      if (!allowed.includes(held)) outsideBarrier.push(`block ${block} holds ${writeName(held)}; may hold ${allowed.map(writeName).join(' or ')}`);
      // Exactly what the log holds before the mark record, too.
      const inLog = host.writesTo(block).filter(w => log.logIdOf.get(w)! < mark.logId).at(-1) ?? 'base';
      if (held !== inLog) notTheLog.push(`block ${block} holds ${writeName(held)}; the log before the mark says ${writeName(inLog)}`);
      if (allowed.length === 1 && allowed[0] !== 'base') exact++;
      const writes = host.writesTo(block);
      if (writes.length > 0 && writes[0].sent > mark.exited) untouched++;
    }
    t.log(`mark ${mark.markId}: ${exact} blocks hold a write acknowledged before it, ${untouched} blocks written only after it returned hold the base`);
    t.true(exact > 0 && untouched > 0, `mark ${mark.markId}: blocks of both kinds`);
    t.deepEqual(outsideBarrier.slice(0, 5), [], `mark ${mark.markId}: every block holds a write the barrier allows`);
    t.deepEqual(notTheLog.slice(0, 5), [], `mark ${mark.markId}: every block holds its last write before the mark in the log`);
  }
});

test('while marklog serve takes 32 writes in flight, log status, mark list, pair display, pair suspend, mark and pair resync from other processes all succeed, and no request is lost: every acknowledged write reads back, the M-VOLs and the resynchronised R-VOL hold them', async t => {
  const sites = loggingSites(t, {size: '16M', logSize: '256M', pairs: 2, start: false});
  const [logged, replicated] = sites.members;
  cliJson(['log', 'start', '--site', sites.primary, '--pairs', String(logged.pair), '--group', String(sites.group)]);
  const served = await serve(t, sites.primary);
  const hosts = await Promise.all([logged, replicated].map(async (member, i) => {
    const clients = await Promise.all(Array.from({length: CONNECTIONS}, () => PipelinedClient.connect(served.port, String(member.mvol))));
    const host = new BarrierHost(clients, sites.capacity / BLOCK, sites.host.now(member.mvol), {depth: DEPTH / 2, maxBlocks: 4, hot: 1024, paceMs: 5000, reserve: 0, seed: SEED + 10 + i});
    return {member, clients, host};
  }));
  const writing = Promise.all(hosts.map(h => h.host.run()));
  writing.catch(() => {});
  await sleep(200);

  const admin = (args: string[]) => marklog(t, args);
  const adminStarted = now();
  t.is((await admin(['log', 'status', '--site', sites.remote, '--group', String(sites.group)])).groups[0].group, sites.group);
  t.true(Array.isArray((await admin(['mark', 'list', '--site', sites.primary])).groups));
  t.is((await admin(['pair', 'display', '--site', sites.primary, '--pair', String(replicated.pair)])).pairs[0].state, 'PAIR');
  t.is((await admin(['pair', 'suspend', '--site', sites.primary, '--pair', String(replicated.pair)])).state, 'PSUS');
  const {markId} = await admin(['mark', '--site', sites.primary, '--app', 'admin']);
  await sleep(200);
  const suspended = (await admin(['pair', 'display', '--site', sites.primary, '--pair', String(replicated.pair)])).pairs[0];
  t.is(suspended.state, 'PSUS');
  t.true(suspended.dirtyChunks > 0, 'writes while suspended went to the bitmap');
  t.is((await admin(['pair', 'resync', '--site', sites.primary, '--pair', String(replicated.pair)])).state, 'PAIR');
  t.true(Array.isArray((await admin(['volume', 'list', '--site', sites.primary])).volumes));
  t.is((await admin(['log', 'status', '--site', sites.remote, '--group', String(sites.group)])).groups[0].markIds.newestMarkId, markId);
  const adminEnded = now();
  await sleep(200);
  for (const h of hosts) h.host.stop();
  await writing;
  for (const {member, host} of hosts) {
    const meanwhile = host.all().filter(w => w.sent > adminStarted && w.acked! < adminEnded).length;
    t.true(meanwhile > 0, `LDEV ${member.mvol}: writes were sent and answered while the admin commands ran (${meanwhile})`);
  }

  // Every acknowledged write reads back through the server, then from the M-VOL once it stopped.
  for (const {member, clients, host} of hosts) {
    const wrong: number[] = [];
    for (let block = 0; block < host.blocks; block += 256) {
      const bytes = await clients[(block / 256) % CONNECTIONS].read(block * BLOCK, 256 * BLOCK);
      for (let b = 0; b < 256; b++) if (!bytes.subarray(b * BLOCK, (b + 1) * BLOCK).equals(host.expectedNow(block + b))) wrong.push(block + b);
    }
    t.deepEqual(wrong.slice(0, 5), [], `LDEV ${member.mvol}: every block reads back as its last acknowledged write`);
    t.log(`LDEV ${member.mvol}: ${host.all().length} writes`);
    for (const client of clients) await client.disconnect();
  }
  t.like(await stopServe(served), {code: 0});
  for (const {member, host} of hosts) {
    const image = fs.readFileSync(imagePath(sites.primary, member.mvol));
    const wrong = Array.from({length: host.blocks}, (_, b) => b).filter(b => !image.subarray(b * BLOCK, (b + 1) * BLOCK).equals(host.expectedNow(b)));
    t.deepEqual(wrong.slice(0, 5), [], `the M-VOL file of LDEV ${member.mvol} holds every acknowledged write`);
  }
  t.true(fs.readFileSync(imagePath(sites.remote, replicated.rvol)).equals(fs.readFileSync(imagePath(sites.primary, replicated.mvol))), 'the resynchronised R-VOL equals its M-VOL');
  for (const site of [sites.primary, sites.remote]) t.deepEqual((await marklog(t, ['verify', '--site', site])).findings, [], `verify at ${path.basename(site)}`);
});
