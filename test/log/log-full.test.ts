import path from 'node:path';
import test from 'ava';
import {cliFailure, digest, imageBytes, loggingSites, logStatus, restore} from '../helpers/logging.js';
import {randomBytes} from '../helpers/sites.js';
import {chunksTouched, pairView, readAt} from '../helpers/volumes.js';

test('Fig. 21: a write that does not fit in a full log still lands on the M-VOL; the pair goes PSUE, marks fail with LOG_FULL, earlier marks still restore', t => {
  // 68 KiB log: two 4 KiB header slots, 60 KiB for records; an 8 KiB write takes 8 240 bytes, a mark 64.
  const {root, primary, remote, host, members, group} = loggingSites(t, {logSize: '68K'});
  const [{pair, mvol, rvol}] = members;
  const ranges: {offset: number; length: number}[] = [];
  const write = (offset: number, length: number) => {
    ranges.push({offset, length});
    return host.writeRandom(mvol, offset, length);
  };
  write(0, 8192);
  host.mark('db');
  write(8192, 8192);
  host.mark('db');
  for (let i = 0; i < 5; i++) t.is(write(65_536 + i * 8192, 8192).logged.length, 1, `fill write ${i} is logged`);
  t.true(logStatus(remote, group).usage.free < 48 * 1024);

  // 48 KiB into chunk 8, which nothing else touched: it cannot fit in what is left.
  const data = randomBytes(48 * 1024);
  const offset = 8 * 65_536;
  ranges.push({offset, length: data.length});
  const tooBig = host.write(mvol, offset, data);

  t.deepEqual(tooBig.logged, [], 'the write was not logged');
  t.true(tooBig.warnings.length > 0, 'the write says the pair fell to PSUE');
  t.true(readAt(primary, mvol, offset, data.length).equals(data), 'the write is on the M-VOL');
  const view = pairView(primary, pair);
  t.is(view.state, 'PSUE');
  t.is(view.dirtyChunks, chunksTouched(ranges, view.chunkSize), 'the bitmap tracks every write, the unlogged one included');
  t.true(logStatus(remote, group).full);

  const mark = cliFailure(['mark', '--site', primary, '--group', String(group), '--app', 'after-full']);
  t.is(mark.code, 'LOG_FULL');
  t.is(mark.exitCode, 7);

  for (const markId of [1, 2]) {
    const file = path.join(root, `at-${markId}.img`);
    restore(remote, group, ['--mark', String(markId), '--rvol', String(rvol), '--to', file]);
    t.is(digest(imageBytes(file)), digest(host.atMark(markId, mvol)), `restore to mark ${markId}`);
  }
});
