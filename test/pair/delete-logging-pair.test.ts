// An R-VOL in a log group is the base its log replays onto. Deleting its pair must
// not let that base change unseen: the delete is refused unless forced, a forced
// delete takes the volume out of the group, and any change to a member that is
// still in the group makes restores refuse and verify say so.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cli, cliJson} from '../helpers/cli.js';
import {followAdvice, findingOf, verifyAt} from '../helpers/advice.js';
import {cliFailure, digest, imageBytes, loggingSites, restore} from '../helpers/logging.js';
import {deleteAsOlderMarklogDid} from '../helpers/older-marklog.js';
import {randomBytes, snapshot, writeAt} from '../helpers/sites.js';

test('pair delete of a pair whose R-VOL is in a log group is refused without --force, logging or stopped, and changes nothing', t => {
  const {primary, remote, host, members, group} = loggingSites(t);
  const [{pair, mvol}] = members;
  host.writeRandom(mvol, 0, 4096);
  host.mark('db');
  const attempt = () => {
    const before = [snapshot(primary), snapshot(remote)];
    const failure = cliFailure(['pair', 'delete', '--site', primary, '--pair', String(pair)]);
    t.is(failure.code, 'PAIR_IN_LOG_GROUP');
    t.is(failure.exitCode, 4);
    t.regex(failure.message, new RegExp(`log group ${group}\\b`));
    t.deepEqual([snapshot(primary), snapshot(remote)], before);
  };
  attempt();
  // Stopped, the log is kept for restores: the R-VOL is still its base.
  cliJson(['log', 'stop', '--site', primary, '--group', String(group)]);
  attempt();
});

test('pair delete --force takes the R-VOL out of its log group: a host write to it then changes no restore of the group, and no restore of it is offered', t => {
  const {root, primary, remote, host, members, group} = loggingSites(t, {pairs: 2});
  const [kept, gone] = members;
  host.writeRandom(kept.mvol, 0, 4096);
  host.writeRandom(gone.mvol, 0, 4096);
  const mark = host.mark('both').markId;

  const deleted = cliJson(['pair', 'delete', '--site', primary, '--pair', String(gone.pair), '--force']);
  t.is(deleted.leftGroup, group);
  writeAt(remote, gone.rvol, 0, randomBytes(4096));

  const file = path.join(root, 'kept.img');
  restore(remote, group, ['--mark', String(mark), '--rvol', String(kept.rvol), '--to', file]);
  t.is(digest(imageBytes(file)), digest(host.atMark(mark, kept.mvol)));
  const offered = cliFailure(['restore', '--site', remote, '--group', String(group), '--mark', String(mark), '--rvol', String(gone.rvol), '--to', path.join(root, 'gone.img')]);
  t.is(offered.code, 'INVALID_ARGUMENT');

  // The group goes on with its other member; the released volume is free for a new pair.
  host.writeRandom(kept.mvol, 65_536, 4096);
  const later = host.mark('kept-only').markId;
  const laterFile = path.join(root, 'later.img');
  restore(remote, group, ['--mark', String(later), '--to', laterFile]);
  t.is(digest(imageBytes(laterFile)), digest(host.now(kept.mvol)));
  for (const site of [primary, remote]) t.deepEqual(verifyAt(site).findings, [], site);
  t.is(cliJson(['pair', 'create', '--site', primary, '--mvol', String(gone.mvol), '--rvol', String(gone.rvol)]).state, 'PAIR');
});

test('a host write at the remote to an R-VOL left in its log group raises its generation: restore refuses with BASE_MISMATCH, verify says so, and its advice fixes it', t => {
  const {root, primary, remote, host, members, group} = loggingSites(t, {pairs: 2});
  const [kept, left] = members;
  host.writeRandom(kept.mvol, 0, 4096);
  host.writeRandom(left.mvol, 0, 4096);
  const mark = host.mark('both').markId;
  deleteAsOlderMarklogDid(primary, remote, left.pair, left.rvol);

  const write = cli(['write', '--site', remote, '--vol', String(left.rvol), '--offset', '0'], {input: randomBytes(4096)});
  t.is(write.code, 0, write.stderr);
  fs.mkdirSync(path.join(root, 'restores'));
  const refused = cliFailure(['restore', '--site', remote, '--group', String(group), '--mark', String(mark), '--to', path.join(root, 'restores')]);
  t.is(refused.code, 'BASE_MISMATCH');
  t.is(refused.exitCode, 4);

  const report = verifyAt(remote);
  t.is(report.exitCode, 9);
  const changed = findingOf(t, report, 'base-changed');
  t.is(changed.severity, 'error');
  t.regex(changed.where, new RegExp(`R-VOL ${left.rvol}\\b`));
  followAdvice(t, changed.action);
  for (const site of [primary, remote]) t.deepEqual(verifyAt(site).findings, [], site);
  t.is(cliJson(['pair', 'create', '--site', primary, '--mvol', String(left.mvol), '--rvol', String(left.rvol)]).state, 'PAIR');
});
