import test from 'ava';
import {cliFailure, digest, imageBytes, loggingSites, logStatus, restore} from '../helpers/logging.js';
import {imagePath, snapshot} from '../helpers/sites.js';
import {pairView} from '../helpers/volumes.js';

test('claim 4: restore --to mvol without --force fails with INVALID_ARGUMENT and changes nothing at either site', t => {
  const {primary, remote, host, members, group} = loggingSites(t);
  host.writeRandom(members[0].mvol, 0, 1000);
  host.mark('db');
  const before = {primary: snapshot(primary), remote: snapshot(remote)};

  const failure = cliFailure(['restore', '--site', remote, '--group', String(group), '--mark', '1', '--to', 'mvol']);

  t.is(failure.code, 'INVALID_ARGUMENT');
  t.is(failure.exitCode, 2);
  t.deepEqual(snapshot(primary), before.primary);
  t.deepEqual(snapshot(remote), before.remote);
});

test('claim 4: restore --to mvol --force puts the M-VOL back to the mark, marks every chunk for resync, and stops the group', t => {
  const {primary, remote, host, members, group} = loggingSites(t);
  const [{pair, mvol, rvol}] = members;
  host.writeRandom(mvol, 100, 3000);
  host.writeRandom(mvol, 400_000, 65_536);
  host.mark('db');
  host.writeRandom(mvol, 0, 200_000);
  host.mark('db');
  host.writeRandom(mvol, 800_000, 10);

  const result = restore(remote, group, ['--mark', '1', '--rvol', String(rvol), '--to', 'mvol', '--force']);

  t.is(result.markId, 1);
  t.is(digest(imageBytes(imagePath(primary, mvol))), digest(host.atMark(1, mvol)));
  const view = pairView(primary, pair);
  t.is(view.dirtyChunks, view.chunks, 'every chunk must be copied again');
  t.is(logStatus(remote, group).mode, 'STOPPED');
});
