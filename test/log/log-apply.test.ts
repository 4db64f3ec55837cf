import test from 'ava';
import path from 'node:path';
import {cliJson} from '../helpers/cli.js';
import {digest, imageBytes, loggingSites, logStatus, markList, restore} from '../helpers/logging.js';
import {imagePath, sha256} from '../helpers/sites.js';
import {pairView} from '../helpers/volumes.js';

test('Fig. 21: log apply up to mark 3 frees space, drops marks 1 and 2, keeps mark 3 as the oldest, and moves the base forward', t => {
  const {root, remote, host, members, group} = loggingSites(t);
  const [{mvol, rvol}] = members;
  host.writeRandom(mvol, 0, 100_000);
  host.mark('db');
  host.writeRandom(mvol, 200_000, 100_000);
  host.writeRandom(mvol, 50_000, 100_000);
  host.mark('db');
  host.writeRandom(mvol, 600_000, 100_000);
  host.mark('db');
  host.writeRandom(mvol, 900_000, 20_000);
  host.mark('db');
  const before = logStatus(remote, group);

  const applied = cliJson(['log', 'apply', '--site', remote, '--group', String(group), '--upto', '3']);

  t.is(applied.markId, 3);
  const after = logStatus(remote, group);
  t.true(after.usage.free > before.usage.free, `free ${before.usage.free} → ${after.usage.free}`);
  t.true(after.usage.used < before.usage.used, `used ${before.usage.used} → ${after.usage.used}`);
  t.deepEqual(markList(remote, group).map(m => m.markId), [3, 4]);
  t.is(after.markIds.oldestMarkId, 3);
  t.is(sha256(imagePath(remote, rvol)), digest(host.atMark(3, mvol)), 'the R-VOL now holds the image at mark 3');

  // The log goes on from the new base: later marks restore right.
  host.writeRandom(mvol, 0, 4096);
  host.mark('db');
  for (const markId of [3, 4, 5]) {
    const file = path.join(root, `at-${markId}.img`);
    restore(remote, group, ['--mark', String(markId), '--rvol', String(rvol), '--to', file]);
    t.is(digest(imageBytes(file)), digest(host.atMark(markId, mvol)), `restore to mark ${markId}`);
  }
});

test('Fig. 21: running the same log apply twice is harmless: same base, same marks, same restores', t => {
  const {root, remote, host, members, group} = loggingSites(t);
  const [{mvol, rvol}] = members;
  host.writeRandom(mvol, 0, 50_000);
  host.mark('db');
  host.writeRandom(mvol, 100_000, 50_000);
  host.mark('db');
  host.writeRandom(mvol, 30_000, 50_000);
  host.mark('db');
  const applyArgs = ['log', 'apply', '--site', remote, '--group', String(group), '--upto', '2'];
  cliJson(applyArgs);
  const once = {rvol: sha256(imagePath(remote, rvol)), marks: markList(remote, group), usage: logStatus(remote, group).usage};

  const again = cliJson(applyArgs);

  t.is(again.markId, 2);
  t.is(again.appliedRecords, 0, 'nothing before mark 2 is left to apply');
  t.is(sha256(imagePath(remote, rvol)), once.rvol);
  t.is(once.rvol, digest(host.atMark(2, mvol)));
  t.deepEqual(markList(remote, group), once.marks);
  t.deepEqual(logStatus(remote, group).usage, once.usage);
  const file = path.join(root, 'at-3.img');
  restore(remote, group, ['--mark', '3', '--rvol', String(rvol), '--to', file]);
  t.is(digest(imageBytes(file)), digest(host.atMark(3, mvol)));
});

test('Fig. 21: applying the older part of a nearly full log gives that space back to new records', t => {
  // 68 KiB log: two 4 KiB header slots, 60 KiB for records; an 8 KiB write takes 8 272 bytes (format 2:
  // 48-byte header, 24-byte target, two 4 KiB block CRCs, the data), a mark 80.
  const {root, primary, remote, host, members, group} = loggingSites(t, {logSize: '68K'});
  const [{pair, mvol, rvol}] = members;
  for (let i = 0; i < 3; i++) host.writeRandom(mvol, i * 8192, 8192);
  host.mark('db');
  for (let i = 3; i < 7; i++) host.writeRandom(mvol, i * 8192, 8192);
  host.mark('db');
  const before = logStatus(remote, group);
  t.true(before.usage.free < 8272, 'the next 8 KiB write would not fit');

  const applied = cliJson(['log', 'apply', '--site', remote, '--group', String(group), '--upto', '1']);

  t.is(applied.appliedRecords, 3);
  const after = logStatus(remote, group);
  t.is(after.usage.used, before.usage.used - 3 * 8272);
  t.is(after.usage.free, before.usage.free + 3 * 8272, 'the three applied records no longer take space');
  t.is(after.usage.used + after.usage.free, after.usage.capacity);
  const next = host.writeRandom(mvol, 7 * 8192, 8192);
  t.is(next.logged.length, 1, 'a write after the apply is logged');
  t.is(pairView(primary, pair).state, 'PSUS');
  host.mark('db');
  const file = path.join(root, 'at-3.img');
  restore(remote, group, ['--mark', '3', '--rvol', String(rvol), '--to', file]);
  t.is(digest(imageBytes(file)), digest(host.atMark(3, mvol)));
});
