import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cli} from '../helpers/cli.js';
import {pausedAt} from '../helpers/hooks.js';
import {cliFailure, loggingSites} from '../helpers/logging.js';

test('Fig. 23: a pair resync during a restore to a file changes the base under it: the restore refuses with BASE_MISMATCH and leaves no file', async t => {
  const {root, primary, remote, group, host, members: [{pair, mvol, rvol}]} = loggingSites(t);
  host.writeRandom(mvol, 0, 20_000);
  host.mark('db');
  host.writeRandom(mvol, 300_000, 50_000);
  const target = path.join(root, 'at-1.img');

  // Held after its checks, before it reads the base: the resync copies the write after mark 1 into the R-VOL.
  const exit = await pausedAt('restore:before-build', ['restore', '--site', remote, '--group', String(group), '--mark', '1', '--rvol', String(rvol), '--to', target, '--json'], root, () => {
    const resync = cli(['pair', 'resync', '--site', primary, '--pair', String(pair), '--json']);
    if (resync.code !== 0) throw new Error(`pair resync failed: ${resync.stderr}`);
  });

  t.is(exit.code, 4, exit.stdout);
  t.is(JSON.parse(exit.stdout).error.code, 'BASE_MISMATCH');
  t.deepEqual(fs.readdirSync(root).filter(name => name.startsWith('at-1.img')), [], 'no image and no partial');
  t.is(cliFailure(['restore', '--site', remote, '--group', String(group), '--mark', '1', '--rvol', String(rvol), '--to', target]).code, 'BASE_MISMATCH',
    'and a new attempt refuses before it starts');
});

test('Fig. 23: with several volumes, a resync of the second pair during the restore leaves none of the images, not only the first', async t => {
  const {root, primary, remote, group, host, members} = loggingSites(t, {pairs: 2});
  for (const {mvol} of members) host.writeRandom(mvol, 0, 10_000);
  host.mark('db');
  host.writeRandom(members[1].mvol, 300_000, 50_000);
  const targets = path.join(root, 'at-1');
  fs.mkdirSync(targets);

  // Held before the first build; the second R-VOL changes while the first is still to be read.
  const exit = await pausedAt('restore:before-build', ['restore', '--site', remote, '--group', String(group), '--mark', '1', '--to', targets, '--json'], root, () => {
    const resync = cli(['pair', 'resync', '--site', primary, '--pair', String(members[1].pair), '--json']);
    if (resync.code !== 0) throw new Error(`pair resync failed: ${resync.stderr}`);
  });

  t.is(exit.code, 4, exit.stdout);
  t.is(JSON.parse(exit.stdout).error.code, 'BASE_MISMATCH');
  t.deepEqual(fs.readdirSync(targets), [], 'an image of the first volume alone would pass for a restore of the group');
});
