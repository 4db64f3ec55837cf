import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cliFailure, digest, imageBytes, loggingSites, restore} from '../helpers/logging.js';
import {flipByte, logRecords} from '../helpers/log-volume.js';
import {imagePath, snapshot} from '../helpers/sites.js';

test('a flipped byte in a write record before mark 2 makes restore to mark 2 fail with CORRUPT_LOG and leave no file; mark 1 still restores', t => {
  const {root, remote, host, members, group, logLdev} = loggingSites(t);
  const [{mvol, rvol}] = members;
  for (let i = 0; i < 4; i++) host.writeRandom(mvol, i * 10_000, 3000);
  host.mark('db');
  const damaged = host.writeRandom(mvol, 100_000, 5000).logged[0].logId;
  host.writeRandom(mvol, 200_000, 5000);
  host.mark('db');
  host.writeRandom(mvol, 300_000, 5000);
  host.mark('db');

  const logFile = imagePath(remote, logLdev!);
  const record = logRecords(logFile).find(r => r.logId === damaged)!;
  t.is(record.kind, 'write');
  t.is(record.address, 100_000, 'the reader found the record of the write at 100 000');
  flipByte(logFile, record.dataAt! + 1234);
  const targets = path.join(root, 'restores');
  fs.mkdirSync(targets);
  fs.writeFileSync(path.join(targets, 'unrelated.txt'), 'kept\n');
  const before = {targets: snapshot(targets), remote: snapshot(remote)};

  for (const markId of [2, 3]) {
    const failure = cliFailure(['restore', '--site', remote, '--group', String(group), '--mark', String(markId), '--rvol', String(rvol), '--to', path.join(targets, `at-${markId}.img`)]);
    t.is(failure.code, 'CORRUPT_LOG', `restore to mark ${markId}`);
    t.is(failure.exitCode, 8);
    t.regex(failure.message, new RegExp(`\\b${damaged}\\b`), 'the message names the log ID of the damaged record');
    t.regex(failure.message, new RegExp(`\\b${record.offset}\\b`), 'the message names its address in the log volume');
  }
  t.deepEqual(snapshot(targets), before.targets, 'no image and no partial file were left');
  t.deepEqual(snapshot(remote), before.remote);

  const file = path.join(targets, 'at-1.img');
  restore(remote, group, ['--mark', '1', '--rvol', String(rvol), '--to', file]);
  t.is(digest(imageBytes(file)), digest(host.atMark(1, mvol)));
});
