import test, {type ExecutionContext} from 'ava';
import {cliSpawn} from '../helpers/cli.js';
import {exited, helperProgram, killIfRunning} from '../helpers/processes.js';
import {createVolume, imagePath, sha256, twoSites} from '../helpers/sites.js';
import {fillAlternateChunks} from '../helpers/volumes.js';
import type {HostWriterPlan, HostWriterReport} from '../helpers/host-writer.js';

type Plan = Pick<HostWriterPlan, 'writes' | 'maxLength' | 'pauseMs' | 'placement' | 'lock'>;

/**
 * Starts `pair create` on a dense 512 MiB M-VOL (4 KiB chunks, so the copy takes a few
 * seconds) and, at the same time, a second process that writes to the M-VOL through
 * the library (host-writer.ts) while the pair is in COPY. Waits for both.
 */
async function copyWhileWriting(t: ExecutionContext, plan: Plan) {
  const {primary, remote} = twoSites(t);
  const mvol = createVolume(primary, '512M');
  const rvol = createVolume(remote, '512M');
  fillAlternateChunks(imagePath(primary, mvol));

  const copier = cliSpawn(['pair', 'create', '--site', primary, '--mvol', String(mvol), '--rvol', String(rvol), '--chunk-size', '4K', '--json']);
  t.teardown(() => killIfRunning(copier));
  const writer = helperProgram('host-writer', [JSON.stringify({primary, remote, mvol, rvol, pair: 1, ...plan} satisfies HostWriterPlan)]);
  t.teardown(() => killIfRunning(writer));
  const [copy, written] = await Promise.all([exited(copier), exited(writer)]);

  t.is(copy.code, 0, copy.stderr);
  t.is(JSON.parse(copy.stdout).state, 'PAIR');
  t.is(written.code, 0, written.stderr);
  const report = JSON.parse(written.stdout) as HostWriterReport;
  t.log(report);
  return {primary, remote, mvol, rvol, report};
}

// The racing writer takes the lock between any two copy batches, so the race itself is
// what gets tested: 90 writes, a third each behind, ahead of and across the copy
// pointer. The first two tests look at the same run from two sides.
let race: ReturnType<typeof copyWhileWriting> | undefined;
const racingWrites = (t: ExecutionContext) => {
  race ??= copyWhileWriting(t, {writes: 90, maxLength: 100_000, pauseMs: 2, placement: 'mixed', lock: 'eager'});
  return race;
};

test.serial('Fig. 15: writes racing the initial copy, behind, ahead of and across the copy pointer, all reach the R-VOL', async t => {
  const {primary, remote, mvol, rvol, report} = await racingWrites(t);

  t.true(report.behind >= 1, 'some writes landed behind the copy pointer');
  t.true(report.ahead >= 1, 'some writes landed ahead of the copy pointer');
  t.true(report.across >= 1, 'some writes straddled the copy pointer');
  t.is(sha256(imagePath(remote, rvol)), sha256(imagePath(primary, mvol)));
});

test.serial('Fig. 15: a write to a region the copy has passed is on the R-VOL at once, while the pair is still in COPY', async t => {
  const {report} = await racingWrites(t);

  // The writer read each such region back from the R-VOL under the same site lock in
  // which it saw the pair in COPY: the copy had not finished, and would not carry it.
  t.true(report.behind >= 3, `${report.behind} writes behind the copy pointer`);
  t.is(report.behindMissingOnRvol, 0);
});

test.serial('Fig. 15: a host write during the initial copy waits for a copy batch, not for the whole copy', async t => {
  const {report} = await copyWhileWriting(t, {writes: 5000, maxLength: 64 * 1024, pauseMs: 20, placement: 'mixed', lock: 'polite'});

  // The copier holds the site lock for one batch at a time and lets a waiting process
  // in between two batches. Had a host write waited for the whole copy, none would land
  // while the pair is in COPY; here writes land in COPY, the copy moving on between
  // them (they saw several copy pointers). Counted, not timed: a slow machine copies
  // more slowly and makes the same interleaving.
  const made = report.behind + report.ahead + report.across;
  t.true(made >= 3, `${made} host writes while the pair was in COPY`);
  t.true(report.pointers >= 3, `${made} writes in COPY saw ${report.pointers} copy pointers`);
});
