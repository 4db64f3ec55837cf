import test from 'ava';
import path from 'node:path';
import {cliFailure, digest, imageBytes, loggingSites, restore} from '../helpers/logging.js';

test('Fig. 23: restore --time picks the last mark at or before that time', t => {
  const {root, remote, host, members, group} = loggingSites(t);
  const [{mvol, rvol}] = members;
  host.writeRandom(mvol, 0, 5000);
  const first = host.mark('db');
  host.writeRandom(mvol, 10_000, 5000);
  const second = host.mark('db');
  host.writeRandom(mvol, 20_000, 5000);
  const third = host.mark('db');
  host.writeRandom(mvol, 30_000, 5000);
  const between = new Date((Date.parse(second.time) + Date.parse(third.time)) / 2).toISOString();
  t.true(Date.parse(second.time) < Date.parse(between) && Date.parse(between) < Date.parse(third.time));

  const betweenFile = path.join(root, 'between.img');
  const picked = restore(remote, group, ['--time', between, '--rvol', String(rvol), '--to', betweenFile]);
  t.is(picked.markId, 2);
  t.is(digest(imageBytes(betweenFile)), digest(host.atMark(2, mvol)));

  const exactFile = path.join(root, 'exact.img');
  const exact = restore(remote, group, ['--time', third.time, '--rvol', String(rvol), '--to', exactFile]);
  t.is(exact.markId, 3, 'a mark exactly at the time counts');
  t.is(digest(imageBytes(exactFile)), digest(host.atMark(3, mvol)));

  const tooEarly = new Date(Date.parse(first.time) - 1).toISOString();
  const failure = cliFailure(['restore', '--site', remote, '--group', String(group), '--time', tooEarly, '--rvol', String(rvol), '--to', path.join(root, 'none.img')]);
  t.is(failure.code, 'MARK_NOT_FOUND');
  t.is(failure.exitCode, 3);
});
