import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {loggedPair, librarySites} from '../helpers/library-sites.js';
import {cli, cliSpawn} from '../helpers/cli.js';
import {HostWriter} from '../../src/io/host-writer.js';
import {hostRead} from '../../src/io/host-io.js';
import {issueMark} from '../../src/mark/mark.js';
import {marksInLog} from '../../src/mark/remote-marks.js';
import {restoreToMark} from '../../src/restore/restore.js';
import {verifySite} from '../../src/verify/verify.js';
import {createVolume} from '../../src/volume/volume-admin.js';
import {createPair} from '../../src/pair/pair-create.js';
import {Site} from '../../src/site/site.js';
import {Journal} from '../../src/log/journal.js';
import {registryPath} from '../../src/mark/host-registry.js';
import {WAIT_BOUND_MS} from '../helpers/wait.js';
import {findGroup} from '../../src/log/remote-log.js';

const CAPACITY = 4 * 1024 * 1024;

// Serial: while a HostWriter's write is under way, the locks this process lets go keep
// their hold bound (lingeringUntilSettled is process-wide), and another test's writes in
// between would keep theirs as long as the writer of this one.

function block(seed: number, length = 4096): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (seed * 131 + i * 7) & 0xff;
  return out;
}

test.serial('writes through a HostWriter in log mode are each a log record, and a mark between them restores exactly', async t => {
  const {root, primary, remote, r, p, mvol, group} = await loggedPair(t, CAPACITY, 64 * 1024 * 1024);
  const writer = new HostWriter(primary);
  const model = Buffer.alloc(CAPACITY);
  const logIds: number[] = [];
  for (let i = 0; i < 200; i++) {
    const offset = ((i * 7919) % 1000) * 4096;
    const data = block(i, 4096 + (i % 3) * 512);
    data.copy(model, offset);
    logIds.push(...(await writer.write(mvol, offset, data)).logged.map(l => l.logId));
    if (i === 99) await issueMark(primary, {app: 'writer-test'});
  }
  const atMark = Buffer.from(model);
  writer.release();
  t.deepEqual(logIds, [...Array.from({length: 100}, (_, i) => i + 1), ...Array.from({length: 100}, (_, i) => i + 102)]);
  t.true(hostRead(primary, mvol, 0, CAPACITY).equals(model));
  // The model at the mark is the first 100 writes: rebuild it.
  atMark.fill(0);
  for (let i = 0; i < 100; i++) block(i, 4096 + (i % 3) * 512).copy(atMark, ((i * 7919) % 1000) * 4096);
  const target = path.join(root, 'at-mark.img');
  await restoreToMark(remote, {group, markId: marksInLog(remote, group)[0].markId, target: {kind: 'file', path: target}});
  t.true(fs.readFileSync(target).equals(atMark));
  t.true((await verifySite(p)).clean);
  t.true((await verifySite(r)).clean);
});

test.serial('a HostWriter in PAIR mode puts every write on the R-VOL before it returns', async t => {
  const {primary, remote} = await librarySites(t);
  const mvol = createVolume(primary, CAPACITY).ldev;
  const rvol = createVolume(remote, CAPACITY).ldev;
  await createPair(primary, {mvol, rvol});
  const writer = new HostWriter(primary);
  for (let i = 0; i < 50; i++) {
    await writer.write(mvol, i * 65536, block(i));
    t.true(hostRead(remote, rvol, i * 65536, 4096).equals(block(i)), `write ${i} is on the R-VOL`);
  }
  writer.release();
});

test.serial('another handle on the same site in this process gets the lock at once while a HostWriter holds it', async t => {
  const {p, primary, mvol} = await loggedPair(t, CAPACITY, 64 * 1024 * 1024);
  const writer = new HostWriter(primary, {holdMs: 60_000});
  await writer.write(mvol, 0, block(1));
  const other = Site.open(p);
  t.teardown(() => other.close());
  // Not allowed to wait for the lock at all: the HostWriter's lingering hold must give way at once.
  const saved = process.env.MARKLOG_LOCK_TIMEOUT_MS;
  process.env.MARKLOG_LOCK_TIMEOUT_MS = '0';
  let mark;
  try {
    mark = await issueMark(other, {app: 'same-process'});
  } finally {
    if (saved === undefined) delete process.env.MARKLOG_LOCK_TIMEOUT_MS;
    else process.env.MARKLOG_LOCK_TIMEOUT_MS = saved;
  }
  t.is(mark.markId, 1);
  // The writer takes the lock back on its next write and sees the mark's record after its own.
  t.deepEqual((await writer.write(mvol, 4096, block(2))).logged.map(l => l.logId), [3]);
  writer.release();
});

test.serial('a mark from another process gets in while a HostWriter streams writes without turning the event loop', async t => {
  const {p, r, primary, mvol, group} = await loggedPair(t, CAPACITY, 1024 * 1024 * 1024);
  const writer = new HostWriter(primary, {holdMs: 20});
  const registry = registryPath(p);
  const marksIssued = () => fs.existsSync(registry) ? fs.readFileSync(registry, 'utf8') : '';
  const before = marksIssued();
  await writer.write(mvol, 0, block(0));
  const child = cliSpawn(['mark', '--site', p, '--app', 'cron', '--json'], {MARKLOG_LOCK_TIMEOUT_MS: '10000'});
  const exited = new Promise<number>(resolve => child.on('close', code => resolve(code ?? -1)));
  let out = '';
  child.stdout.on('data', chunk => {
    out += chunk;
  });
  // One synchronous burst, without a turn of the event loop, until the child's mark
  // is in the host registry, and 1,000 writes more (at most 120 s, a bound for a very
  // busy machine; small writes, so the log holds them all): the child can only get
  // the locks between two writes.
  const limit = Date.now() + WAIT_BOUND_MS;
  let writes = 1;
  let lastLogId = 0;
  let markSeenAt: number | undefined;
  while (Date.now() < limit && (markSeenAt === undefined || writes < markSeenAt + 1000)) {
    const {logged} = await writer.write(mvol, (writes % 1000) * 4096, block(writes, 512));
    if (logged.length !== 1) return t.fail(`write ${writes} was not logged`);
    lastLogId = logged[0].logId;
    writes++;
    if (markSeenAt === undefined && writes % 500 === 0 && marksIssued() !== before) markSeenAt = writes;
  }
  writer.release();
  t.truthy(markSeenAt, 'the mark was issued while the burst ran');
  t.is(await exited, 0, out);
  const {markId} = JSON.parse(out) as {markId: number};
  const remote = Site.open(r);
  t.teardown(() => remote.close());
  const mark = marksInLog(remote, group).find(m => m.markId === markId);
  t.truthy(mark);
  t.true(mark!.logId < lastLogId, `the mark (log ID ${mark!.logId}) went in during the burst (last write ${lastLogId})`);
  t.log(`${writes} writes in the burst; the mark took log ID ${mark!.logId}`);
});

test.serial('a pair suspended by an admin command between bursts is seen: later writes only set bitmap bits', async t => {
  const {p, primary, remote} = await librarySites(t);
  const mvol = createVolume(primary, CAPACITY).ldev;
  const rvol = createVolume(remote, CAPACITY).ldev;
  const {pair} = await createPair(primary, {mvol, rvol});
  const writer = new HostWriter(primary, {holdMs: 60_000});
  await writer.write(mvol, 0, block(1));
  // The event loop turns: the writer's locks go, the admin command runs.
  await new Promise(resolve => setImmediate(resolve));
  const suspended = cli(['pair', 'suspend', '--site', p, '--pair', String(pair)]);
  t.is(suspended.code, 0, suspended.stderr);
  await writer.write(mvol, 65536, block(2));
  writer.release();
  t.true(hostRead(remote, rvol, 0, 4096).equals(block(1)));
  t.true(hostRead(remote, rvol, 65536, 4096).equals(Buffer.alloc(4096)), 'the write after the suspend did not reach the R-VOL');
  const display = cli(['pair', 'display', '--site', p, '--json']);
  t.is((JSON.parse(display.stdout) as {pairs: {dirtyChunks: number}[]}).pairs[0].dirtyChunks, 1);
});

test.serial('the log header a HostWriter keeps in memory is the one on disk after each write', async t => {
  const {r, primary, mvol, group} = await loggedPair(t, CAPACITY, 64 * 1024 * 1024);
  const writer = new HostWriter(primary, {holdMs: 60_000});
  for (let i = 0; i < 20; i++) {
    await writer.write(mvol, i * 4096, block(i));
    // A fresh handle reads the header slots from disk (no hold of its own to reuse).
    const fresh = Site.open(r);
    const tables = fresh.tables();
    const journal = Journal.open(fresh, tables, findGroup(fresh, tables, group));
    t.is(journal.lastLogId(), i + 1);
    t.is(journal.volumes[0].recoveredRecords, 0);
    fresh.close();
  }
  writer.release();
});
