import test from 'ava';
import path from 'node:path';
import {cliFailure, digest, imageBytes, loggingSites, markList, restore} from '../helpers/logging.js';
import {imagePath, sha256, snapshot} from '../helpers/sites.js';

test('Fig. 23: an in-place restore without --force fails with INVALID_ARGUMENT and changes nothing', t => {
  const {primary, remote, host, members, group} = loggingSites(t);
  const [{mvol, rvol}] = members;
  host.writeRandom(mvol, 0, 1000);
  host.mark('db');
  host.writeRandom(mvol, 2000, 1000);
  const before = {primary: snapshot(primary), remote: snapshot(remote)};

  const failure = cliFailure(['restore', '--site', remote, '--group', String(group), '--mark', '1', '--rvol', String(rvol), '--to', 'rvol']);

  t.is(failure.code, 'INVALID_ARGUMENT');
  t.is(failure.exitCode, 2);
  t.deepEqual(snapshot(primary), before.primary);
  t.deepEqual(snapshot(remote), before.remote);
});

test('Fig. 23: restore --to rvol --force rewrites the R-VOL to mark 2; marks before it leave the list, mark 2 and later stay restorable', t => {
  const {root, primary, remote, host, members, group} = loggingSites(t);
  const [{mvol, rvol}] = members;
  host.writeRandom(mvol, 0, 10_000);
  host.mark('db');
  host.writeRandom(mvol, 65_530, 12);
  host.writeRandom(mvol, 700_000, 200_000);
  host.mark('db');
  host.writeRandom(mvol, 5, 5);
  host.mark('db');
  host.writeRandom(mvol, 900_000, 1000);

  const result = restore(remote, group, ['--mark', '2', '--rvol', String(rvol), '--to', 'rvol', '--force']);

  t.is(result.markId, 2);
  t.is(sha256(imagePath(remote, rvol)), digest(host.atMark(2, mvol)));
  t.deepEqual(markList(remote, group).map(m => m.markId), [2, 3], 'mark 1 is consumed, mark 2 stays as the oldest');
  t.deepEqual(markList(primary, group).map(m => [m.markId, m.host, m.remote]), [[1, true, false], [2, true, true], [3, true, true]],
    'the host still lists mark 1, as no longer in the log');
  // What is left of the log still rebuilds mark 3 on top of the new base.
  const file = path.join(root, 'at-3.img');
  restore(remote, group, ['--mark', '3', '--rvol', String(rvol), '--to', file]);
  t.is(digest(imageBytes(file)), digest(host.atMark(3, mvol)));
});
