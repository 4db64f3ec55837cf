import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import test from 'ava';
import {cli} from '../helpers/cli.js';
import {killedAt, sharedSetup} from '../helpers/hooks.js';
import {cliFailure, digest, imageBytes, loggingSites, restore} from '../helpers/logging.js';
import {imagePath} from '../helpers/sites.js';
import {pairView} from '../helpers/volumes.js';

function verify(site: string): {code: number; findings: {check: string; where: string; message: string; action: string}[]} {
  const result = cli(['verify', '--site', site, '--json']);
  return {code: result.code, findings: JSON.parse(result.stdout).findings};
}

/** Files a restore leaves in the site directory while it stages (this version's names and older ones). */
function stagingFiles(remote: string): string[] {
  return fs.readdirSync(remote).filter(name => name.startsWith('restore-'));
}

/** A mark and a write after it; every test here starts from this. */
const markedSites = sharedSetup(test, t => {
  const sites = loggingSites(t);
  const {mvol} = sites.members[0];
  sites.host.writeRandom(mvol, 0, 20_000);
  sites.host.mark('db');
  sites.host.writeRandom(mvol, 300_000, 50_000);
  return sites;
});

test.serial('claim 4: a restore onto the M-VOLs killed after staging leaves an image verify names with its size; the next restore clears it', t => {
  const {primary, remote, group, host, capacity, members: [{mvol}]} = markedSites();
  const args = ['restore', '--site', remote, '--group', String(group), '--mark', '1', '--to', 'mvol', '--force'];

  killedAt('restore:staged', args);
  t.is(stagingFiles(remote).length, 1, 'the killed restore left its staging image');

  const report = verify(remote);
  t.is(report.code, 9);
  const finding = report.findings.find(f => f.check === 'restore-staging');
  t.truthy(finding, JSON.stringify(report.findings));
  t.true(finding!.message.includes(String(capacity)), finding!.message);

  const rerun = restore(remote, group, ['--mark', '1', '--to', 'mvol', '--force']);
  t.is(rerun.markId, 1);
  t.deepEqual(stagingFiles(remote), [], 'the rerun cleared the abandoned image and its own');
  t.is(digest(imageBytes(imagePath(primary, mvol))), digest(host.atMark(1, mvol)));
  t.deepEqual(verify(remote).findings, []);
});

test.serial('claim 4: the action verify gives for an abandoned staging image removes it and verify is clean again', t => {
  const {remote, group} = markedSites();
  killedAt('restore:staged', ['restore', '--site', remote, '--group', String(group), '--mark', '1', '--to', 'mvol', '--force']);

  const finding = verify(remote).findings.find(f => f.check === 'restore-staging');
  t.truthy(finding);
  const command = /`([^`]+)`/.exec(finding!.action);
  t.truthy(command, finding!.action);
  execFileSync('sh', ['-c', command![1]]);

  t.deepEqual(stagingFiles(remote), []);
  t.deepEqual(verify(remote).findings, []);
});

test.serial('claim 4: a restore onto the M-VOL killed as its copy begins leaves the pair out of the log with every chunk marked for resync', t => {
  const {primary, remote, group, members: [{pair}]} = markedSites();
  killedAt('receive:before-copy', ['restore', '--site', remote, '--group', String(group), '--mark', '1', '--to', 'mvol', '--force']);

  // From here the M-VOL may be anything between its old contents and the mark's.
  const view = pairView(primary, pair);
  t.is(view.dirtyChunks, view.chunks, 'a resync must copy every chunk');
  t.is(view.state, 'PSUS');
  t.not(cliFailure(['mark', '--site', primary, '--group', String(group)]).exitCode, 0, 'no mark may promise the half-copied M-VOL');
});
