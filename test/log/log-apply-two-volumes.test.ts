import test from 'ava';
import path from 'node:path';
import {cliJson} from '../helpers/cli.js';
import {digest, imageBytes, loggingSites, logStatus, markList, restore} from '../helpers/logging.js';
import {createVolume} from '../helpers/sites.js';
import {pairView} from '../helpers/volumes.js';

// 68 KiB log volumes: two 4 KiB header slots, 60 KiB for records each; an 8 KiB write takes 8 240 bytes, a mark 64.
const WRITE = 8192;

test('Fig. 21: applying past the end of the first of two log volumes empties it for new records; later marks restore', t => {
  const {root, primary, remote, host, members, group, logLdev} = loggingSites(t, {logSize: '68K'});
  const [{pair, mvol, rvol}] = members;
  let offset = 0;
  const fill = (writes: number) => {
    for (let i = 0; i < writes; i++, offset += WRITE) t.is(host.writeRandom(mvol, offset, WRITE).logged.length, 1, `write at ${offset} is logged`);
  };
  fill(7);
  host.mark('db');
  const second = createVolume(remote, '68K', ['--pool']);
  cliJson(['log', 'extend', '--site', remote, '--group', String(group), '--ldev', String(second)]);
  fill(3);
  host.mark('db');
  fill(1);
  host.mark('db');

  const applied = cliJson(['log', 'apply', '--site', remote, '--group', String(group), '--upto', '2']);

  t.is(applied.appliedRecords, 10);
  t.deepEqual(markList(remote, group).map(m => m.markId), [2, 3]);
  const after = logStatus(remote, group);
  t.is(after.usage.records, 3, 'mark 2, one write and mark 3 are left');
  const first = after.logVolumes.find(v => v.ldev === logLdev)!;
  t.is(first.records, 0, 'the first log volume holds nothing any more');
  t.true(after.usage.free >= 60 * 1024, `${after.usage.free} bytes free: at least the emptied volume`);

  fill(8);
  host.mark('db');
  t.is(pairView(primary, pair).state, 'PSUS', 'every write after the apply was logged');
  for (const markId of [3, 4]) {
    const file = path.join(root, `at-${markId}.img`);
    restore(remote, group, ['--mark', String(markId), '--rvol', String(rvol), '--to', file]);
    t.is(digest(imageBytes(file)), digest(host.atMark(markId, mvol)), `restore to mark ${markId}`);
  }
});
