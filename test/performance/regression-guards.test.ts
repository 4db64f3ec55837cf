import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {librarySites} from '../helpers/library-sites.js';
import {createVolume} from '../../src/volume/volume-admin.js';
import {createPair} from '../../src/pair/pair-create.js';
import {suspendPair, resyncPair} from '../../src/pair/pair-control.js';
import {startLogging} from '../../src/log/log-start.js';
import {hostWrite} from '../../src/io/host-io.js';
import {issueMark} from '../../src/mark/mark.js';
import {Journal} from '../../src/log/journal.js';
import {findGroup} from '../../src/log/remote-log.js';
import {chooseMark} from '../../src/restore/locate.js';
import {replayUpTo, replayVerifying} from '../../src/restore/replay.js';
import {HostWriter} from '../../src/io/host-writer.js';
import {LogScan} from '../../src/restore/scan.js';
import {restoreToMark} from '../../src/restore/restore.js';
import {VolumeImage} from '../../src/volume/image.js';

// Properties the benchmarks rely on that do not depend on the machine's speed.

test('restore of an overwrite-heavy log writes each final byte to the target once, and the same image as a naive replay', async t => {
  const {root, primary, remote} = await librarySites(t);
  const capacity = 1024 * 1024;
  createVolume(primary, capacity);
  createVolume(remote, capacity);
  createVolume(remote, 64 * 1024 * 1024, true);
  await createPair(primary, {mvol: 0, rvol: 0});
  await startLogging(primary, {pairs: [1], group: 1});
  const block = 4096;
  for (let round = 0; round < 10; round++) {
    for (let b = 0; b < 64; b++) await hostWrite(primary, 0, b * block + (round % 3) * 100, Buffer.alloc(block, round * 64 + b));
  }
  await issueMark(primary, {app: 'guard'});

  const tables = remote.tables();
  const scan = LogScan.of(Journal.open(remote, tables, findGroup(remote, tables, 1)));
  const mark = chooseMark(scan, {markId: 1});
  const build = (name: string, coalesce: boolean) => {
    const file = path.join(root, name);
    VolumeImage.create(file, capacity);
    const image = VolumeImage.open(file, capacity);
    const result = replayUpTo(scan, mark.logId, new Map([[0, image]]), {coalesce});
    image.close();
    return {result, bytes: fs.readFileSync(file)};
  };
  const coalesced = build('coalesced.img', true);
  const naive = build('naive.img', false);
  t.true(coalesced.bytes.equals(naive.bytes));
  t.is(naive.result.written, 640 * block);
  const covered = 63 * block + 200 + block;
  t.is(coalesced.result.written, covered, 'each final byte written once');
  t.true(coalesced.result.written * 9 < naive.result.written);

  // A restore to a new file plans from the headers and writes while it checks: the same bytes, once.
  const planned = LogScan.of(Journal.open(remote, tables, findGroup(remote, tables, 1)), {headersOnly: true});
  const file = path.join(root, 'verifying.img');
  VolumeImage.create(file, capacity);
  const image = VolumeImage.open(file, capacity);
  const verifying = replayVerifying(planned, chooseMark(planned, {markId: 1}).logId, new Map([[0, image]]), 'mark 1');
  image.close();
  t.true(fs.readFileSync(file).equals(naive.bytes));
  t.is(verifying.written, covered, 'each final byte written once');
});

// Serial: the calls are counted for the whole process, and the writes await, so another
// test's work in between would be counted too.
test.serial('a logged write through a HostWriter, within one hold of the locks, is one write to the M-VOL and one to the log: nothing read, looked up or locked', async t => {
  const {primary, remote} = await librarySites(t);
  createVolume(primary, 4 * 1024 * 1024);
  createVolume(remote, 4 * 1024 * 1024);
  createVolume(remote, 64 * 1024 * 1024, true);
  await createPair(primary, {mvol: 0, rvol: 0});
  await startLogging(primary, {pairs: [1], group: 1});
  const writer = new HostWriter(primary, {holdMs: 60_000});
  await writer.write(0, 0, Buffer.alloc(4096, 1)); // takes the locks and reads what it needs once
  // A new hold of either site's lock would show as a statSync of that site's tables.
  const counted = countFsCalls(['writeSync', 'writevSync', 'readSync', 'statSync', 'fstatSync', 'openSync', 'readFileSync']);
  try {
    for (let i = 1; i <= 100; i++) await writer.write(0, i * 4096, Buffer.alloc(4096, i));
  } finally {
    counted.restore();
    writer.release();
  }
  t.deepEqual(counted.calls, {writeSync: 100, writevSync: 100, readSync: 0, statSync: 0, fstatSync: 0, openSync: 0, readFileSync: 0});
});

test('resync copies only dirty chunks, and pair create moves no byte of a hole', async t => {
  const {primary, remote} = await librarySites(t);
  const capacity = 64 * 1024 * 1024;
  createVolume(primary, capacity);
  createVolume(remote, capacity);
  await hostWrite(primary, 0, 10 * 65536, Buffer.alloc(3 * 65536, 1));
  const created = await createPair(primary, {mvol: 0, rvol: 0});
  t.is(created.copiedBytes, 3 * 65536, 'only the data chunks moved');
  t.is(created.holeBytes, capacity - 3 * 65536);
  await suspendPair(primary, 1);
  for (const chunk of [0, 500, 1023]) await hostWrite(primary, 0, chunk * 65536 + 7, Buffer.alloc(10, 2));
  t.is((await resyncPair(primary, 1)).copiedBytes, 3 * 65536);
});

/** Counts calls to the named functions of node:fs (the module marklog's code calls through) until restore(). */
function countFsCalls(names: string[]) {
  const target = fs as unknown as Record<string, (...args: unknown[]) => unknown>;
  const calls: Record<string, number> = {};
  const originals = new Map(names.map(name => [name, target[name]]));
  for (const [name, original] of originals) {
    calls[name] = 0;
    target[name] = (...args: unknown[]) => {
      calls[name]++;
      return original.apply(fs, args);
    };
  }
  return {calls, restore: () => originals.forEach((original, name) => {
    target[name] = original;
  })};
}

/** Bytes this process has read through read system calls so far (Linux /proc/self/io). */
function bytesRead(): number {
  return Number(/rchar: (\d+)/.exec(fs.readFileSync('/proc/self/io', 'utf8'))![1]);
}

test('a restore to an early mark reads the log only up to that mark: its scan stops at the mark, and no read-ahead runs into the records after it', async t => {
  const {root, primary, remote} = await librarySites(t);
  const capacity = 8 * 1024 * 1024;
  createVolume(primary, capacity);
  createVolume(remote, capacity);
  createVolume(remote, 64 * 1024 * 1024, true);
  await createPair(primary, {mvol: 0, rvol: 0});
  await startLogging(primary, {pairs: [1], group: 1});
  const block = 64 * 1024;
  const data = Buffer.alloc(block, 0x5a);
  for (let i = 0; i < 8; i++) await hostWrite(primary, 0, i * block, data);
  const early = (await issueMark(primary, {app: 'early'})).markId;
  for (let i = 8; i < 120; i++) await hostWrite(primary, 0, i * block, data);
  await issueMark(primary, {app: 'late'});
  const tables = remote.tables();
  t.is(LogScan.of(Journal.open(remote, tables, findGroup(remote, tables, 1)), {headersOnly: true, untilMark: early}).writes.length, 8, 'the scan stops at the mark');
  const before = bytesRead();
  await restoreToMark(remote, {group: 1, markId: early, target: {kind: 'file', path: path.join(root, 'early.img')}});
  const read = bytesRead() - before;
  // 8 records' data (512 KiB) and the reads of tables, headers and the base's metadata; the 112 records after the mark are 7 MiB.
  t.true(read < 2 * 1024 * 1024, `the early restore read ${read} bytes`);
  t.is(fs.readFileSync(path.join(root, 'early.img')).subarray(0, 8 * block).equals(Buffer.alloc(8 * block, 0x5a)), true);
});
