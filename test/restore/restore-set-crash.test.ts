import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {killedAt} from '../helpers/hooks.js';
import {digest, imageBytes, loggingSites, restore} from '../helpers/logging.js';

test('Fig. 23: a restore of several volumes killed between its renames finishes when run again, every image at the mark', t => {
  const {root, remote, group, host, members} = loggingSites(t, {pairs: 2});
  for (const {mvol} of members) host.writeRandom(mvol, 0, 10_000);
  host.mark('db');
  for (const {mvol} of members) host.writeRandom(mvol, 500_000, 10_000);
  const dir = path.join(root, 'at-1');
  fs.mkdirSync(dir);

  killedAt('restore:renamed-one', ['restore', '--site', remote, '--group', String(group), '--mark', '1', '--to', dir]);
  t.is(fs.readdirSync(dir).filter(name => name.endsWith('.img')).length, 1, 'killed with one image in place');

  const rerun = restore(remote, group, ['--mark', '1', '--to', dir]);

  t.is(rerun.markId, 1);
  t.deepEqual(fs.readdirSync(dir).sort(), members.map(m => `rvol-${String(m.rvol).padStart(4, '0')}.img`), 'nothing else is left');
  for (const {mvol, rvol} of members) {
    t.is(digest(imageBytes(path.join(dir, `rvol-${String(rvol).padStart(4, '0')}.img`))), digest(host.atMark(1, mvol)));
  }
});
