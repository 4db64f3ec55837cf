import test from 'ava';
import {cliJson} from '../helpers/cli.js';
import {createVolume, imagePath, randomBytes, sha256, threeSites, twoSites} from '../helpers/sites.js';
import {pairView, readAt, writeFileAt} from '../helpers/volumes.js';

function pairCreate(site: string, mvol: number, rvol: number) {
  return cliJson(['pair', 'create', '--site', site, '--mvol', String(mvol), '--rvol', String(rvol)]);
}

test('one M-VOL with two R-VOLs at the same remote: a host write reaches both, and each pair tracks its own state', t => {
  const {primary, remote} = twoSites(t);
  const mvol = createVolume(primary, '4M');
  const first = createVolume(remote, '4M');
  const second = createVolume(remote, '4M');
  writeFileAt(primary, mvol, 1000, randomBytes(100_000));

  t.is(pairCreate(primary, mvol, first).state, 'PAIR');
  t.is(pairCreate(primary, mvol, second).state, 'PAIR');
  t.deepEqual(cliJson(['volume', 'list', '--site', primary]).volumes[0].pairs, [1, 2]);

  const data = randomBytes(70_000);
  writeFileAt(primary, mvol, 2 * 1024 * 1024 + 5, data);
  t.deepEqual(readAt(remote, first, 2 * 1024 * 1024 + 5, data.length), data);
  t.deepEqual(readAt(remote, second, 2 * 1024 * 1024 + 5, data.length), data);
  t.is(sha256(imagePath(remote, first)), sha256(imagePath(primary, mvol)));
  t.is(sha256(imagePath(remote, second)), sha256(imagePath(primary, mvol)));

  // Suspending one pair leaves the other replicating.
  cliJson(['pair', 'suspend', '--site', primary, '--pair', '2']);
  writeFileAt(primary, mvol, 0, randomBytes(512));
  t.is(sha256(imagePath(remote, first)), sha256(imagePath(primary, mvol)));
  t.not(sha256(imagePath(remote, second)), sha256(imagePath(primary, mvol)));
  t.is(pairView(primary, 2).dirtyChunks, 1);
  t.is(pairView(primary, 1).dirtyChunks, 0);

  const resync = cliJson(['pair', 'resync', '--site', primary, '--pair', '2']);
  t.is(resync.copiedBytes, 64 * 1024);
  t.is(sha256(imagePath(remote, second)), sha256(imagePath(primary, mvol)));
});

test('cascade: the remote pairs its R-VOL with a volume at a third site, and a host write at the primary reaches it', t => {
  const {primary, remote, third} = threeSites(t);

  const mvol = createVolume(primary, '4M');
  const rvol = createVolume(remote, '4M');
  const far = createVolume(third, '4M');
  const before = randomBytes(200_000);
  writeFileAt(primary, mvol, 300_000, before);

  t.is(pairCreate(primary, mvol, rvol).state, 'PAIR');
  // The R-VOL at the remote is the M-VOL of the remote's own pair.
  const cascade = pairCreate(remote, rvol, far);
  t.is(cascade.state, 'PAIR');
  t.true(cascade.copiedBytes > 0);
  t.deepEqual(readAt(third, far, 300_000, before.length), before, 'the initial copy of the cascade carried the data');

  const data = randomBytes(50_000);
  writeFileAt(primary, mvol, 3 * 1024 * 1024, data);
  t.deepEqual(readAt(remote, rvol, 3 * 1024 * 1024, data.length), data);
  t.deepEqual(readAt(third, far, 3 * 1024 * 1024, data.length), data);
  t.is(sha256(imagePath(third, far)), sha256(imagePath(primary, mvol)));
  t.is(pairView(remote, cascade.pair).state, 'PAIR');
});
