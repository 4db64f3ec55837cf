import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cli, cliJson} from '../helpers/cli.js';
import {loggingSites, logStatus} from '../helpers/logging.js';
import {randomBytes} from '../helpers/sites.js';
import {sleep} from '../helpers/processes.js';
import {waitFor} from '../helpers/wait.js';

function lines(file: string): string[] {
  return (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '').split('\n').filter(Boolean);
}

test('Fig. 21: past the 50 % threshold the alert is raised, writes warn, and the alert command runs once', async t => {
  // 256 KiB log: 252 KiB for records; each 32 KiB write takes 32 816 bytes, so the 4th crosses 50 %.
  const {root, remote, host, members, group} = loggingSites(t, {logSize: '256K'});
  const [{mvol}] = members;
  const fired = path.join(root, 'fired.txt');
  cliJson(['log', 'config', '--site', remote, '--group', String(group), '--threshold', '50', '--alert-command', `echo fired >> '${fired}'`]);
  const write = (i: number, json: boolean) => {
    const data = randomBytes(32 * 1024);
    const args = host.writeArgs(mvol, i * 32 * 1024, data);
    const result = cli(json ? [...args, '--json'] : args);
    if (result.code === 0) host.landed(mvol, i * 32 * 1024, data);
    return result;
  };

  t.is(write(0, true).code, 0);
  const quiet = write(1, false);
  t.is(quiet.code, 0);
  t.is(quiet.stderr, '', 'below the threshold a write prints no warning');
  t.deepEqual(JSON.parse(write(2, true).stdout).warnings, []);
  t.false(logStatus(remote, group).alert);
  // A timing condition, not a wait: an alert below the threshold would have had 300 ms to show.
  await sleep(300);
  t.deepEqual(lines(fired), [], 'no alert below the threshold');

  const crossing = write(3, false);

  t.is(crossing.code, 0);
  t.not(crossing.stderr, '', 'the write that crosses the threshold warns on stderr');
  const status = logStatus(remote, group);
  t.true(status.usage.usedRatio >= 0.5);
  t.true(status.alert);
  const over = write(4, true);
  t.is(over.code, 0);
  t.true(JSON.parse(over.stdout).warnings.length > 0, 'a write over the threshold carries the warning in --json');
  t.is(write(5, false).code, 0);
  // The alert command runs detached: wait for its line, however long the machine takes.
  await waitFor(() => lines(fired).length >= 1, {what: 'the alert command to write its line', seen: () => JSON.stringify(lines(fired))});
  t.deepEqual(lines(fired), ['fired']);
  // A timing condition: a second alert, had one been started, would have had a second to write.
  await sleep(1000);
  t.deepEqual(lines(fired), ['fired'], 'the alert command ran exactly once for one crossing');
});
