// A host write of a logging group that never reached the log (remote gone, log full)
// leaves a gap: no mark after it could restore what the host wrote. The gap is
// recorded where it happened and at the log's site, and outlives every change of the
// pair (suspend, resync) and of the log (extend, apply) until `log start` takes a new base.
import fs from 'node:fs';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {cliJson} from '../helpers/cli.js';
import {followAdvice, findingOf, verifyAt} from '../helpers/advice.js';
import {cliFailure, digest, imageBytes, loggingSites, restore} from '../helpers/logging.js';
import {editTables} from '../helpers/older-marklog.js';
import {createVolume} from '../helpers/sites.js';
import {pairView} from '../helpers/volumes.js';

function markRefused(t: ExecutionContext, primary: string, group: number, step: string): void {
  const failure = cliFailure(['mark', '--site', primary, '--group', String(group), '--app', 'after-gap']);
  t.is(failure.code, 'LOG_GAP', `${step}: ${failure.message}`);
  t.is(failure.exitCode, 7, step);
}

test('Fig. 21: a mark after a write that was never logged is refused through suspend, resync and extend until log start', t => {
  const {root, primary, remote, host, members, group} = loggingSites(t);
  const [{pair, mvol, rvol}] = members;
  createVolume(remote, '1M', ['--pool']);
  host.writeRandom(mvol, 0, 4096);
  const before = host.mark('before').markId;

  // The remote is gone for one write: the host gets it acknowledged with a warning, the log never sees it.
  fs.renameSync(remote, `${remote}.away`);
  const lost = host.writeRandom(mvol, 65_536, 4096);
  fs.renameSync(`${remote}.away`, remote);
  t.deepEqual(lost.logged, []);
  t.is(pairView(primary, pair).state, 'PSUE');
  markRefused(t, primary, group, 'while PSUE');

  t.is(cliJson(['pair', 'suspend', '--site', primary, '--pair', String(pair)]).state, 'PSUS');
  t.is(host.writeRandom(mvol, 2 * 65_536, 4096).logged.length, 1, 'writes are logged again once suspended');
  markRefused(t, primary, group, 'after pair suspend');
  cliJson(['log', 'extend', '--site', remote, '--group', String(group)]);
  markRefused(t, primary, group, 'after log extend');
  cliJson(['log', 'apply', '--site', remote, '--group', String(group), '--upto', String(before)]);
  markRefused(t, primary, group, 'after log apply');

  // The mark before the gap still restores exactly; both sites' verify name the gap.
  const file = path.join(root, 'before.img');
  restore(remote, group, ['--mark', String(before), '--rvol', String(rvol), '--to', file]);
  t.is(digest(imageBytes(file)), digest(host.atMark(before, mvol)));
  for (const site of [primary, remote]) {
    const report = verifyAt(site);
    t.is(report.exitCode, 9, site);
    t.regex(findingOf(t, report, 'log-gap').message, new RegExp(`pair ${pair}\\b`));
  }

  t.is(cliJson(['pair', 'resync', '--site', primary, '--pair', String(pair)]).state, 'PAIR');
  t.is(cliJson(['pair', 'suspend', '--site', primary, '--pair', String(pair)]).state, 'PSUS');
  markRefused(t, primary, group, 'after pair resync and suspend');

  // What verify advises (stop, resync, log start) is a new base: clean, and marks restore again.
  followAdvice(t, findingOf(t, verifyAt(remote), 'log-gap').action);
  for (const site of [primary, remote]) t.deepEqual(verifyAt(site).findings, [], site);
  host.writeRandom(mvol, 3 * 65_536, 4096);
  const after = host.mark('after-log-start').markId;
  const again = path.join(root, 'after.img');
  restore(remote, group, ['--mark', String(after), '--rvol', String(rvol), '--to', again]);
  t.is(digest(imageBytes(again)), digest(host.now(mvol)));
});

test('Fig. 21: a write refused by a full log keeps marks refused after the log is extended and the pair suspended', t => {
  // 68 KiB log: 60 KiB for records, an 8 KiB write takes 8 240 bytes.
  const {primary, remote, host, members, group} = loggingSites(t, {logSize: '68K'});
  const [{pair, mvol}] = members;
  createVolume(remote, '1M', ['--pool']);
  host.writeRandom(mvol, 0, 8192);
  host.mark('before');
  let offset = 65_536;
  while (host.writeRandom(mvol, offset, 8192).logged.length === 1) offset += 65_536;
  t.is(pairView(primary, pair).state, 'PSUE');

  cliJson(['log', 'extend', '--site', remote, '--group', String(group)]);
  t.is(cliJson(['pair', 'suspend', '--site', primary, '--pair', String(pair)]).state, 'PSUS');
  t.is(host.writeRandom(mvol, offset + 65_536, 4096).logged.length, 1, 'the extended log takes writes again');
  markRefused(t, primary, group, 'after log extend and pair suspend');

  const gap = findingOf(t, verifyAt(remote), 'log-gap');
  t.regex(gap.message, /LOG_FULL/);
  followAdvice(t, gap.action);
  for (const site of [primary, remote]) t.deepEqual(verifyAt(site).findings, [], site);
  t.true(host.mark('after-log-start').markId > 1);
});

test('a log holding marks after a write it never received: verify names those marks, and restore refuses them', t => {
  const {root, primary, remote, host, members, group} = loggingSites(t);
  const [{pair, mvol, rvol}] = members;
  const marks: {markId: number; logId: number}[] = [];
  for (let i = 0; i < 3; i++) {
    host.writeRandom(mvol, i * 65_536, 4096);
    marks.push(host.mark(`m${i}`));
  }
  // As a marklog that accepted marks after a lost write left it, once the loss is known:
  // the write that never arrived belongs right after the first mark.
  editTables(remote, tables => {
    tables.groups[0].gap = {group, pair, mvol, time: new Date().toISOString(), reason: 'REMOTE_UNREACHABLE', afterLogId: marks[0].logId};
  });

  const gap = findingOf(t, verifyAt(remote), 'log-gap');
  t.regex(gap.message, new RegExp(`marks ${marks[1].markId}, ${marks[2].markId}\\b`));
  for (const {markId} of marks.slice(1)) {
    const failure = cliFailure(['restore', '--site', remote, '--group', String(group), '--mark', String(markId), '--rvol', String(rvol), '--to', path.join(root, `m${markId}.img`)]);
    t.is(failure.code, 'MARK_AFTER_GAP', `mark ${markId}`);
    t.is(failure.exitCode, 4);
    t.false(fs.existsSync(path.join(root, `m${markId}.img`)));
  }
  const first = path.join(root, 'first.img');
  restore(remote, group, ['--mark', String(marks[0].markId), '--rvol', String(rvol), '--to', first]);
  t.is(digest(imageBytes(first)), digest(host.atMark(marks[0].markId, mvol)));
});
