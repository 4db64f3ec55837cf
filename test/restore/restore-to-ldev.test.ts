import test from 'ava';
import {cliFailure, digest, imageBytes, loggingSites, restore} from '../helpers/logging.js';
import {createVolume, imagePath, sha256, snapshot} from '../helpers/sites.js';

test('Fig. 23: restore to mark 2 onto an unused LDEV at the remote gives base + the writes before mark 2, and ignores every write after it', t => {
  const {remote, host, members, group} = loggingSites(t);
  const [{mvol, rvol}] = members;
  const frozenBase = sha256(imagePath(remote, rvol));
  host.writeRandom(mvol, 0, 4096);
  host.writeRandom(mvol, 300_000, 70_000);
  host.mark('db');
  host.writeRandom(mvol, 1000, 100);
  host.writeRandom(mvol, 299_990, 20);
  host.mark('db');
  host.writeRandom(mvol, 0, 65_536);
  host.writeRandom(mvol, 1_000_000, 48_576);
  host.mark('db');
  host.writeRandom(mvol, 500_000, 1);
  const spare = createVolume(remote, '1M');

  const result = restore(remote, group, ['--mark', '2', '--rvol', String(rvol), '--to', `ldev:${spare}`]);

  t.is(result.markId, 2);
  t.is(result.records, 4, 'the four writes before mark 2 were replayed');
  t.is(sha256(imagePath(remote, spare)), digest(host.atMark(2, mvol)));
  t.not(digest(host.atMark(2, mvol)), digest(host.now(mvol)), 'the writes after mark 2 changed the M-VOL, so leaving them out is visible');
  t.is(sha256(imagePath(remote, rvol)), frozenBase, 'the R-VOL, the base, is untouched');
  t.true(imageBytes(imagePath(remote, spare)).equals(host.atMark(2, mvol)));
});

test('Fig. 23: restore onto an LDEV that is in use (the R-VOL, the log volume, a pool volume) fails with VOLUME_IN_USE and changes nothing', t => {
  const {remote, host, members, group, logLdev} = loggingSites(t);
  const [{mvol, rvol}] = members;
  host.writeRandom(mvol, 4096, 4096);
  host.mark('db');
  const pool = createVolume(remote, '1M', ['--pool']);
  const before = snapshot(remote);

  for (const target of [rvol, logLdev!, pool]) {
    const failure = cliFailure(['restore', '--site', remote, '--group', String(group), '--mark', '1', '--rvol', String(rvol), '--to', `ldev:${target}`]);
    t.is(failure.code, 'VOLUME_IN_USE', `target LDEV ${target}`);
    t.is(failure.exitCode, 4, `target LDEV ${target}`);
  }
  t.deepEqual(snapshot(remote), before);
});
