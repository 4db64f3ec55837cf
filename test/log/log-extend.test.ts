import test from 'ava';
import path from 'node:path';
import {cliJson} from '../helpers/cli.js';
import {digest, imageBytes, loggingSites, logStatus, restore} from '../helpers/logging.js';
import {createVolume} from '../helpers/sites.js';
import {pairView} from '../helpers/volumes.js';

// A write record takes a 32-byte header, 16 bytes of target and address, then the data.
const WRITE = 8192;
const WRITE_RECORD = 32 + 16 + WRITE;

test('Fig. 21: a small log nearly full is extended with a pool volume; writes go on being logged and restores span both log volumes', t => {
  const {root, primary, remote, host, members, group} = loggingSites(t, {logSize: '68K'});
  const [{pair, mvol, rvol}] = members;
  let offset = 0;
  const fill = (writes: number) => {
    for (let i = 0; i < writes; i++, offset += WRITE) t.is(host.writeRandom(mvol, offset, WRITE).logged.length, 1);
  };
  fill(3);
  host.mark('db');
  fill(4);
  host.mark('db');
  const nearlyFull = logStatus(remote, group);
  t.true(nearlyFull.usage.free < WRITE_RECORD, `${nearlyFull.usage.free} bytes free: the next write would not fit`);
  t.is(nearlyFull.logVolumes.length, 1);

  const spare = createVolume(remote, '68K', ['--pool']);
  const extended = cliJson(['log', 'extend', '--site', remote, '--group', String(group)]);

  t.deepEqual(extended.logVolumes.map((v: {ldev: number}) => v.ldev).slice(1), [spare]);
  t.true(logStatus(remote, group).usage.free >= WRITE_RECORD);
  fill(2);
  host.mark('db');
  fill(1);
  host.mark('db');
  const status = logStatus(remote, group);
  t.false(status.full);
  t.true(status.logVolumes[1].records > 0, 'the new log volume holds records');
  t.is(pairView(primary, pair).state, 'PSUS', 'the pair kept logging');
  for (const markId of [1, 2, 3, 4]) {
    const file = path.join(root, `at-${markId}.img`);
    restore(remote, group, ['--mark', String(markId), '--rvol', String(rvol), '--to', file]);
    t.is(digest(imageBytes(file)), digest(host.atMark(markId, mvol)), `restore to mark ${markId}`);
  }
});
