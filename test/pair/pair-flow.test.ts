import test from 'ava';
import {cliJson} from '../helpers/cli.js';
import {createVolume, imagePath, randomBytes, sha256, twoSites, writeAt} from '../helpers/sites.js';

test('Fig. 14: pair create copies random data and ends in PAIR; a suspended pair resyncs only its three dirty chunks', t => {
  const {primary, remote} = twoSites(t);
  const mvol = createVolume(primary, '16M');
  const rvol = createVolume(remote, '16M');
  for (let i = 0; i < 12; i++) {
    const length = 1 + Math.floor(Math.random() * 200_000);
    const offset = Math.floor(Math.random() * (16 * 1024 * 1024 - length));
    writeAt(primary, mvol, offset, randomBytes(length));
  }

  const created = cliJson(['pair', 'create', '--site', primary, '--mvol', String(mvol), '--rvol', String(rvol)]);
  t.is(created.pair, 1);
  t.is(created.state, 'PAIR');
  t.true(created.copiedBytes > 0);
  t.is(sha256(imagePath(remote, rvol)), sha256(imagePath(primary, mvol)));

  cliJson(['pair', 'suspend', '--site', primary, '--pair', '1']);
  for (const offset of [0, 5 * 65536 + 100, 200 * 65536]) writeAt(primary, mvol, offset, randomBytes(4096));
  const display = cliJson(['pair', 'display', '--site', primary, '--pair', '1']);
  t.is(display.pairs[0].state, 'PSUS');
  t.is(display.pairs[0].dirtyChunks, 3);
  t.not(sha256(imagePath(remote, rvol)), sha256(imagePath(primary, mvol)));

  const resync = cliJson(['pair', 'resync', '--site', primary, '--pair', '1']);
  t.is(resync.state, 'PAIR');
  t.is(resync.copiedBytes, 3 * 65536);
  t.is(sha256(imagePath(remote, rvol)), sha256(imagePath(primary, mvol)));
});

test('in PAIR state a host write reaches the R-VOL before the command returns', t => {
  const {primary, remote} = twoSites(t);
  const mvol = createVolume(primary, '1M');
  const rvol = createVolume(remote, '1M');
  cliJson(['pair', 'create', '--site', primary, '--mvol', String(mvol), '--rvol', String(rvol)]);
  const data = randomBytes(10_000);
  writeAt(primary, mvol, 12_345, data);
  t.is(sha256(imagePath(remote, rvol)), sha256(imagePath(primary, mvol)));
});
