import test from 'ava';
import {cli, cliJson} from '../helpers/cli.js';
import {killedAt, savedState, sharedSetup} from '../helpers/hooks.js';
import {cliFailure, digest, imageBytes, loggingSites} from '../helpers/logging.js';
import {imagePath} from '../helpers/sites.js';

function verify(site: string): {code: number; findings: {check: string; where: string; message: string; action: string}[]} {
  const result = cli(['verify', '--site', site, '--json']);
  return {code: result.code, findings: JSON.parse(result.stdout).findings};
}

/** The command inside the first pair of backticks of a finding's action, run through the CLI. */
function runAction(action: string) {
  const command = /`marklog ([^`]+)`/.exec(action);
  if (!command) throw new Error(`the action names no marklog command: ${action}`);
  return cli([...command[1].split(' ').map(word => word.replace(/^'(.*)'$/, '$1')), '--json']);
}

/** Two marks with a write after each, every test here starts from it; the takeovers go to a mark and drop the rest. */
const twoMarks = sharedSetup(test, t => {
  const sites = loggingSites(t);
  const {mvol} = sites.members[0];
  sites.host.writeRandom(mvol, 0, 30_000);
  sites.host.mark('db');
  sites.host.writeRandom(mvol, 200_000, 40_000);
  sites.host.mark('db');
  sites.host.writeRandom(mvol, 600_000, 5_000);
  return sites;
});

test.serial('Fig. 22: a takeover killed after the log was re-formatted finishes on rerun at its mark; the primary is refused meanwhile and verify names the fix', t => {
  const {primary, remote, group, host, members: [{mvol, rvol}]} = twoMarks();
  const takeoverArgs = ['takeover', '--site', remote, '--group', String(group), '--mark', '1'];

  killedAt('takeover:log-formatted', takeoverArgs);

  // Still alive, the primary must not log into a group half taken over: a write or
  // mark now would sit after mark 1 in a log the takeover is throwing away.
  t.is(cliFailure(['mark', '--site', primary, '--group', String(group)]).code, 'TAKEN_OVER');
  t.is(cliFailure(host.writeArgs(mvol, 900_000, Buffer.from('after the crash'))).code, 'TAKEN_OVER');
  for (const args of [
    ['restore', '--site', remote, '--group', String(group), '--mark', '2', '--to', 'rvol', '--force'],
    ['log', 'apply', '--site', remote, '--group', String(group), '--upto', '2'],
  ]) t.is(cliFailure(args).code, 'TAKEOVER_UNFINISHED', args.join(' '));
  const status = cliJson(['log', 'status', '--site', remote, '--group', String(group)]).groups[0];
  t.like(status.takeoverUnfinished, {markId: 1});

  const report = verify(remote);
  t.is(report.code, 9);
  const finding = report.findings.find(f => f.check === 'takeover-unfinished');
  t.truthy(finding, JSON.stringify(report.findings));
  const finished = runAction(finding!.action);
  t.is(finished.code, 0, finished.stderr);
  const result = JSON.parse(finished.stdout);
  t.is(result.markId, 1);
  t.is(result.droppedRecords, 2, 'the write after mark 1 and the one after mark 2');
  t.deepEqual(result.volumes.map((v: {state: string}) => v.state), ['SSWS']);

  t.is(digest(imageBytes(imagePath(remote, rvol))), digest(host.atMark(1, mvol)), 'the R-VOL is the image at mark 1');
  t.deepEqual(verify(remote).findings, []);
  t.is(cliFailure(takeoverArgs).code, 'WRONG_PAIR_STATE', 'done once, a takeover is not done twice');
});

test.serial('Fig. 22: a takeover killed at any step ends, on rerun of the same command, with the R-VOL at the mark', t => {
  const {root, primary, remote, group, host, members: [{mvol, rvol}]} = twoMarks();
  const takeoverArgs = ['takeover', '--site', remote, '--group', String(group), '--mark', 'latest'];
  const rewind = savedState(root, [primary, remote]);
  for (const point of ['takeover:intent-saved', 'takeover:applied', 'takeover:log-formatted']) {
    rewind();
    killedAt(point, takeoverArgs);
    const rerun = cli([...takeoverArgs, '--json']);

    t.is(rerun.code, 0, `${point}: ${rerun.stderr}${rerun.stdout}`);
    t.like(JSON.parse(rerun.stdout), {markId: 2, droppedRecords: 1}, point);
    t.is(digest(imageBytes(imagePath(remote, rvol))), digest(host.atMark(2, mvol)), point);
  }
});
