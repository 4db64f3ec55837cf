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
import {replayUpTo} from '../../src/restore/replay.js';
import {LogScan} from '../../src/restore/scan.js';
import {VolumeImage} from '../../src/volume/image.js';

// Properties the benchmarks rely on that do not depend on the machine's speed.

test('restore of an overwrite-heavy log writes each final byte to the target once, and the same image as a naive replay', t => {
  const {root, primary, remote} = librarySites(t);
  const capacity = 1024 * 1024;
  createVolume(primary, capacity);
  createVolume(remote, capacity);
  createVolume(remote, 64 * 1024 * 1024, true);
  createPair(primary, {mvol: 0, rvol: 0});
  startLogging(primary, {pairs: [1], group: 1});
  const block = 4096;
  for (let round = 0; round < 10; round++) {
    for (let b = 0; b < 64; b++) hostWrite(primary, 0, b * block + (round % 3) * 100, Buffer.alloc(block, round * 64 + b));
  }
  issueMark(primary, {app: 'guard'});

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
});

test('resync copies only dirty chunks, and pair create moves no byte of a hole', t => {
  const {primary, remote} = librarySites(t);
  const capacity = 64 * 1024 * 1024;
  createVolume(primary, capacity);
  createVolume(remote, capacity);
  hostWrite(primary, 0, 10 * 65536, Buffer.alloc(3 * 65536, 1));
  const created = createPair(primary, {mvol: 0, rvol: 0});
  t.is(created.copiedBytes, 3 * 65536, 'only the data chunks moved');
  t.is(created.holeBytes, capacity - 3 * 65536);
  suspendPair(primary, 1);
  for (const chunk of [0, 500, 1023]) hostWrite(primary, 0, chunk * 65536 + 7, Buffer.alloc(10, 2));
  t.is(resyncPair(primary, 1).copiedBytes, 3 * 65536);
});
