// Commands run at the wrong site say what is true and where to go, and the recovery
// site sees its own takeover (issue 12, items 3 to 6): the log lives at the remote, marks
// are issued at the primary, the old primary is told to fail back, never to start a log.
import test from 'ava';
import {cli, cliJson} from '../helpers/cli.js';
import {loggingSites} from '../helpers/logging.js';
import {snapshot} from '../helpers/sites.js';
import {takeoverQuestion} from '../../src/takeover/heartbeat-run.js';

function refusal(args: string[]): {code: number; error: {code: string; message: string; hint?: string}} {
  const result = cli([...args, '--json']);
  return {code: result.code, error: JSON.parse(result.stdout).error};
}

test('restore, takeover and log apply at the primary name the remote site where the log lives; mark at the remote names the primary', t => {
  const {primary, remote, host, members} = loggingSites(t);
  host.writeRandom(members[0].mvol, 0, 4096);
  host.mark('app');
  for (const args of [
    ['restore', '--site', primary, '--group', '1', '--mark', '1', '--to', '/nonexistent/x.img'],
    ['takeover', '--site', primary, '--group', '1'],
    ['log', 'apply', '--site', primary, '--group', '1', '--upto', '1'],
  ]) {
    const {code, error} = refusal(args);
    t.is(code, 4, args.join(' '));
    t.is(error.code, 'WRONG_ROLE');
    t.true(error.message.includes('is the primary') && error.message.includes(JSON.stringify(remote)), error.message);
    t.true(error.hint!.includes(`--site ${JSON.stringify(remote)}`), error.hint);
  }
  const marked = refusal(['mark', '--site', remote, '--app', 'wrong-site']);
  t.is(marked.code, 4);
  t.is(marked.error.code, 'WRONG_ROLE');
  t.regex(marked.error.message, /marks are issued at the primary/);
  t.true(marked.error.hint!.includes(JSON.stringify(primary)), marked.error.hint);
});

test('Fig. 22: after a takeover, a mark at the old primary is TAKEN_OVER with the failback hint, before and after a write there', t => {
  const {primary, remote, host, members} = loggingSites(t);
  host.writeRandom(members[0].mvol, 0, 4096);
  host.mark('app');
  t.is(cli(['takeover', '--site', remote, '--group', '1', '--mark', 'latest']).code, 0);
  const first = refusal(['mark', '--site', primary, '--app', 'late']);
  t.is(first.error.code, 'TAKEN_OVER');
  t.regex(first.error.hint ?? '', /pair resync --reverse --pair 1/);
  t.notRegex(first.error.hint ?? '', /^start/);
  t.is(cli(['write', '--site', primary, '--vol', String(members[0].mvol), '--offset', '0'], {input: 'split brain'}).code, 4);
  const after = refusal(['mark', '--site', primary, '--app', 'late']);
  t.is(after.code, 4);
  t.is(after.error.code, 'TAKEN_OVER', after.error.message);
  t.regex(after.error.hint ?? '', /pair resync --reverse --pair 1/);
  t.regex(after.error.hint ?? '', /do not start a log/);
});

test('Fig. 22: the recovery site sees its own takeover: the R-VOL hosts write to has its path defined, and pair display there shows it SSWS, when and at which mark', t => {
  const {remote, host, members} = loggingSites(t);
  const [{mvol, rvol, pair}] = members;
  host.writeRandom(mvol, 0, 4096);
  host.mark('app');
  const before = cliJson<{rvols: any[]}>(['pair', 'display', '--site', remote]);
  t.like(before.rvols[0], {rvol, pair, mvol, state: 'PSUS', takenOver: null});
  const taken = cliJson<{since: string}>(['takeover', '--site', remote, '--group', '1', '--mark', '1']);
  t.is(cli(['write', '--site', remote, '--vol', String(rvol), '--offset', '0'], {input: 'at the recovery site'}).code, 0);
  const volume = cliJson<{volumes: any[]}>(['volume', 'list', '--site', remote]).volumes.find(v => v.ldev === rvol);
  t.true(volume.pathDefined, 'hosts write to it here now');
  const after = cliJson<{pairs: unknown[]; rvols: any[]}>(['pair', 'display', '--site', remote]);
  t.deepEqual(after.pairs, []);
  t.like(after.rvols[0], {rvol, pair, mvol, state: 'SSWS', stateFrom: 'remote', direction: 'forward', takenOver: taken.since, takeoverMark: 1, changedBytes: 65536});
  const human = cli(['pair', 'display', '--site', remote], {env: {NO_COLOR: '1'}}).stdout;
  t.regex(human, /SSWS/);
  t.notRegex(human, /no pairs/);
});

test('Fig. 22: takeover --dry-run names the mark, its time and application, and what would be dropped, and changes nothing', t => {
  const {remote, host, members} = loggingSites(t);
  host.writeRandom(members[0].mvol, 0, 4096);
  const mark = host.mark('payroll');
  host.writeRandom(members[0].mvol, 8192, 3000);
  host.writeRandom(members[0].mvol, 65536, 5000);
  const before = snapshot(remote);
  const plan = cliJson(['takeover', '--site', remote, '--group', '1', '--mark', 'latest', '--dry-run']);
  t.like(plan, {group: 1, markId: mark.markId, markTime: mark.time, app: 'payroll', appliedRecords: 1, droppedRecords: 2, droppedBytes: 8000, dryRun: true});
  const human = cli(['takeover', '--site', remote, '--group', '1', '--mark', 'latest', '--dry-run'], {env: {NO_COLOR: '1'}}).stdout;
  t.regex(human, new RegExp(`mark ${mark.markId} \\(${mark.time.replace(/[.]/g, '\\.')}, payroll\\)`));
  t.regex(human, /2 writes \(7\.81 KiB\) after it dropped/);
  t.deepEqual(snapshot(remote), before, 'nothing changed at the remote');
});

test('Fig. 22: the heartbeat watcher asks its takeover question with the mark, its time and application, and what would be dropped', t => {
  const {remote, host, members} = loggingSites(t);
  host.writeRandom(members[0].mvol, 0, 4096);
  const mark = host.mark('payroll');
  host.writeRandom(members[0].mvol, 8192, 4096);
  const question = takeoverQuestion(remote, {group: 1, mark: 'latest'});
  t.true(question.includes(`mark ${mark.markId} (${mark.time}, payroll)`), question);
  t.true(question.includes('1 writes (4.00 KiB) after it dropped'), question);
  t.true(question.endsWith('now?'), question);
});
