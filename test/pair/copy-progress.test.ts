import test from 'ava';
import {cliSpawn} from '../helpers/cli.js';
import {exited, helperProgram, killIfRunning, sleep} from '../helpers/processes.js';
import {createVolume, imagePath, twoSites} from '../helpers/sites.js';
import {fillAlternateChunks, tryPairView} from '../helpers/volumes.js';
import type {DisplayPollReport} from '../helpers/display-poller.js';

test.serial('Fig. 14: pair display shows the copy progress on every call while the copy runs', async t => {
  const {primary, remote} = twoSites(t);
  const mvol = createVolume(primary, '512M');
  const rvol = createVolume(remote, '512M');
  fillAlternateChunks(imagePath(primary, mvol));

  // Small chunks: many copy-pointer updates, and a copy long enough to watch.
  const copier = cliSpawn(['pair', 'create', '--site', primary, '--mvol', String(mvol), '--rvol', String(rvol), '--chunk-size', '4K', '--json']);
  t.teardown(() => killIfRunning(copier));
  const copied = exited(copier);
  // A monitoring script polling as fast as it can, beside an administrator running the CLI.
  const poller = helperProgram('display-poller', [primary, '1']);
  t.teardown(() => killIfRunning(poller));
  const polled = exited(poller);

  const failures: string[] = [];
  const progress: number[] = [];
  while (copier.exitCode === null) {
    const {view, code, exitCode} = tryPairView(primary, 1);
    if (view?.state === 'COPY') progress.push(view.copyProgress);
    else if (code && code !== 'PAIR_NOT_FOUND') failures.push(`${code} (exit ${exitCode})`);
    await sleep(5);
  }
  const copy = await copied;
  t.is(copy.code, 0, copy.stderr);
  t.is(JSON.parse(copy.stdout).state, 'PAIR');

  t.deepEqual(failures, [], 'every `pair display` during the copy succeeded');
  t.true(progress.length >= 1, 'the CLI saw the copy running');
  t.deepEqual(progress, [...progress].sort((a, b) => a - b), 'progress never goes backwards');
  t.true(progress.every(p => p >= 0 && p < 100));

  const watch = await polled;
  t.is(watch.code, 0, watch.stderr);
  const report = JSON.parse(watch.stdout) as DisplayPollReport;
  t.log(report);
  t.deepEqual(report.failures, {}, 'every poll of the pair during the copy succeeded');
  t.true(report.inCopy >= 10, `${report.inCopy} polls saw the copy running`);
  t.true(report.monotonic);
});
