import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cliJson} from '../helpers/cli.js';
import {cliFailure, loggingSites} from '../helpers/logging.js';
import {createVolume, snapshot} from '../helpers/sites.js';
import {pairView} from '../helpers/volumes.js';

test('Fig. 23: after a pair resync wrote to the R-VOL, restore and log apply refuse with BASE_MISMATCH and change nothing', t => {
  const {root, primary, remote, host, members, group} = loggingSites(t);
  const [{pair, mvol, rvol}] = members;
  host.writeRandom(mvol, 0, 20_000);
  host.mark('db');
  host.writeRandom(mvol, 500_000, 20_000);
  host.mark('db');

  const resync = cliJson(['pair', 'resync', '--site', primary, '--pair', String(pair)]);
  t.is(resync.state, 'PAIR');
  t.is(pairView(primary, pair).dirtyChunks, 0);
  const spare = createVolume(remote, '1M');
  const targets = path.join(root, 'restores');
  fs.mkdirSync(targets);
  const before = {remote: snapshot(remote), targets: snapshot(targets)};

  const attempts = [
    ['restore', '--site', remote, '--group', String(group), '--mark', '1', '--rvol', String(rvol), '--to', path.join(targets, 'at-1.img')],
    ['restore', '--site', remote, '--group', String(group), '--mark', '2', '--rvol', String(rvol), '--to', `ldev:${spare}`],
    ['restore', '--site', remote, '--group', String(group), '--mark', '2', '--rvol', String(rvol), '--to', 'rvol', '--force'],
    ['log', 'apply', '--site', remote, '--group', String(group), '--upto', '2'],
  ];
  for (const args of attempts) {
    const failure = cliFailure(args);
    t.is(failure.code, 'BASE_MISMATCH', args.join(' '));
    t.is(failure.exitCode, 4, args.join(' '));
  }
  t.deepEqual(snapshot(remote), before.remote);
  t.deepEqual(snapshot(targets), before.targets);
});
