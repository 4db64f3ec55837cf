import test from 'ava';
import {cliJson} from '../helpers/cli.js';
import {killedAt, pausedAt, savedState, sharedSetup} from '../helpers/hooks.js';
import {loggingSites} from '../helpers/logging.js';
import {imagePath, sha256, writeAt} from '../helpers/sites.js';

const CHUNK = 64 * 1024;

/** Logging sites, one mark, then the remote took the group over at it: every test here starts from this. */
const takenOver = sharedSetup(test, t => {
  const sites = loggingSites(t);
  sites.host.writeRandom(sites.members[0].mvol, 0, 10_000);
  sites.host.mark('db');
  cliJson(['takeover', '--site', sites.remote, '--group', String(sites.group), '--mark', 'latest']);
  return sites;
});

function failbackArgs(primary: string, pair: number): string[] {
  return ['pair', 'resync', '--site', primary, '--pair', String(pair), '--reverse', '--json'];
}

test.serial('Fig. 22: a failback killed right after the remote handed over its bitmap carries the remote\'s writes on rerun', t => {
  const {root, primary, remote, members: [{pair, mvol, rvol}]} = takenOver();
  writeAt(remote, rvol, 5 * CHUNK + 100, Buffer.from('written at the remote during the outage'));
  const rewind = savedState(root, [primary, remote]);
  // Before the primary recorded the ranges, and after it did but before the remote let them go.
  for (const point of ['failback:ranges-read', 'failback:ranges-persisted']) {
    rewind();
    killedAt(point, failbackArgs(primary, pair));
    const rerun = cliJson(failbackArgs(primary, pair).slice(0, -1));

    t.is(rerun.state, 'PAIR', point);
    t.is(rerun.direction, 'reverse', point);
    t.is(sha256(imagePath(primary, mvol)), sha256(imagePath(remote, rvol)), `${point}: the M-VOL holds the remote's write`);
  }
});

test.serial('Fig. 22: a failback killed right after the R-VOL became the source carries the last writes on rerun', async t => {
  const {root, primary, remote, members: [{pair, mvol, rvol}]} = takenOver();
  writeAt(remote, rvol, 2 * CHUNK, Buffer.from('copied by the catch-up passes'));

  // The last write arrives after the catch-up passes, so only the final switch hands it over.
  const exit = await pausedAt('failback:before-direction', failbackArgs(primary, pair), root, () => {
    writeAt(remote, rvol, 9 * CHUNK + 7, Buffer.from('written just before the switch'));
  }, {MARKLOG_TEST_CRASH_AT: 'failback:direction-set'});
  t.is(exit.signal, 'SIGKILL', exit.stderr);

  const rerun = cliJson(failbackArgs(primary, pair).slice(0, -1));
  t.is(rerun.state, 'PAIR');
  t.is(rerun.direction, 'reverse');
  t.is(sha256(imagePath(primary, mvol)), sha256(imagePath(remote, rvol)), 'the M-VOL holds the write made before the switch');
});

test.serial('Fig. 22: a write at the remote between the hand-over and its forgetting reaches the M-VOL', async t => {
  const {root, primary, remote, members: [{pair, mvol, rvol}]} = takenOver();
  writeAt(remote, rvol, 3 * CHUNK, Buffer.from('first version'));

  // The same chunk is written again while the primary holds the first hand-over.
  const exit = await pausedAt('failback:ranges-read', failbackArgs(primary, pair), root, () => {
    writeAt(remote, rvol, 3 * CHUNK, Buffer.from('second version, the one that counts'));
  });
  t.is(exit.code, 0, exit.stderr);
  t.is(JSON.parse(exit.stdout).state, 'PAIR');
  t.is(sha256(imagePath(primary, mvol)), sha256(imagePath(remote, rvol)));
});
