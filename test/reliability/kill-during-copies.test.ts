import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cli, cliJson, cliSpawn} from '../helpers/cli.js';
import {exited, sleep} from '../helpers/processes.js';
import {waitFor} from '../helpers/wait.js';
import {createVolume, imagePath, randomBytes, sha256, twoSites} from '../helpers/sites.js';
import {Site} from '../../src/site/site.js';
import {hostWrite} from '../../src/io/host-io.js';
import {issueMark} from '../../src/mark/mark.js';

const ROUNDS = 4;

/** Writes through the library (fast); the process under test is the CLI that gets killed. */
function host(t: Parameters<typeof twoSites>[0], dir: string) {
  const site = Site.open(dir);
  t.teardown(() => site.close());
  return {
    write: (ldev: number, offset: number, data: Buffer) => hostWrite(site, ldev, offset, data),
    mark: async () => (await issueMark(site, {app: 'test'})).markId,
  };
}

/**
 * Starts a command and SIGKILLs it after a moment (counted from when `started` holds,
 * if given: the kill then lands in the work, however slow the machine is to start
 * the command); returns whether the kill ended it (it had not exited on its own).
 * Once `started` holds, the wait and the kill happen without yielding to the event
 * loop: on a loaded machine a timer or the next poll can come tens of milliseconds
 * late, after a copy of this size has finished.
 */
async function killMidway(args: string[], afterMs: number, started?: {what: string; check: () => boolean}): Promise<boolean> {
  const child = cliSpawn(args);
  const done = exited(child);
  if (started) {
    await waitFor(() => {
      if (!started.check()) return child.exitCode !== null;
      const until = Date.now() + afterMs;
      while (Date.now() < until) { /* the moment after the start, without yielding */ }
      child.kill('SIGKILL');
      return true;
    }, {what: started.what, everyMs: 2});
  } else {
    await sleep(afterMs);
    child.kill('SIGKILL');
  }
  return (await done).signal === 'SIGKILL';
}

/** The pair's state as the tables say now (read without the lock, as `pair display` does). */
function pairState(dir: string, pair: number): string | undefined {
  const site = Site.open(dir);
  try {
    return site.tables().pairs.find(p => p.pair === pair)?.state;
  } finally {
    site.close();
  }
}

function fillDense(file: string, from: number, length: number): void {
  const fd = fs.openSync(file, 'r+');
  const block = randomBytes(1024 * 1024);
  for (let at = 0; at < length; at += block.length) fs.writeSync(fd, block, 0, Math.min(block.length, length - at), from + at);
  fs.closeSync(fd);
}

// Serial: the other tests of this file do long synchronous work that would starve its polls, and
// the copy it is to interrupt would finish unseen.
test.serial('a resync killed at random moments, run again, ends with M-VOL and R-VOL equal', async t => {
  const {primary, remote} = twoSites(t);
  // Enough dirty data that the copy outlasts the poll that sees it start: 48 MiB
  // copied in about 20 ms once the CLI started quickly, and the kills came too late.
  const mvol = createVolume(primary, '256M');
  const rvol = createVolume(remote, '256M');
  cliJson(['pair', 'create', '--site', primary, '--mvol', String(mvol), '--rvol', String(rvol), '--chunk-size', '4K']);
  const {write} = host(t, primary);
  const piece = randomBytes(16 * 1024 * 1024);
  let interrupted = 0;
  for (let round = 0; round < ROUNDS; round++) {
    cliJson(['pair', 'suspend', '--site', primary, '--pair', '1']);
    for (let at = 0; at < 192 * 1024 * 1024; at += piece.length) await write(mvol, round * 4096 + at, piece.subarray(round * 512));
    const copying = {what: 'the resync to start copying (pair 1 in COPY)', check: () => pairState(primary, 1) === 'COPY'};
    if (await killMidway(['pair', 'resync', '--site', primary, '--pair', '1'], round * 3, copying)) interrupted++;
    const again = cliJson(['pair', 'resync', '--site', primary, '--pair', '1']);
    t.is(again.state, 'PAIR');
    t.is(sha256(imagePath(primary, mvol)), sha256(imagePath(remote, rvol)), `round ${round}`);
  }
  t.log(`${interrupted} of ${ROUNDS} resyncs were killed mid-copy`);
  t.true(interrupted > 0);
});

test('a log apply killed at random moments, run again, ends in the same state, and restores stay exact', async t => {
  const {primary, remote} = twoSites(t);
  const mvol = createVolume(primary, '8M');
  const rvol = createVolume(remote, '8M');
  createVolume(remote, '256M', ['--pool']);
  cliJson(['pair', 'create', '--site', primary, '--mvol', String(mvol), '--rvol', String(rvol)]);
  cliJson(['log', 'start', '--site', primary, '--pairs', '1', '--group', '1']);
  const {write, mark} = host(t, primary);
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < 24; i++) await write(mvol, (i * 1_300_000 + round * 4096) % (7 * 1024 * 1024), randomBytes(1024 * 1024));
    const applyTo = await mark();
    await write(mvol, round * 8192, randomBytes(8192));
    const later = await mark();
    const atLater = fs.readFileSync(imagePath(primary, mvol));
    await killMidway(['log', 'apply', '--site', remote, '--group', '1', '--upto', String(applyTo)], 60 + round * 40);
    const applied = cli(['log', 'apply', '--site', remote, '--group', '1', '--upto', String(applyTo), '--json']);
    t.is(applied.code, 0, applied.stdout + applied.stderr);
    const file = path.join(remote, '..', `later-${round}.img`);
    cliJson(['restore', '--site', remote, '--group', '1', '--mark', String(later), '--rvol', String(rvol), '--to', file]);
    t.true(fs.readFileSync(file).equals(atLater), `round ${round}: restore to mark ${later} after the apply`);
    t.is(cli(['verify', '--site', remote]).code, 0);
  }
});

test('a restore to a new file killed at random moments leaves no file under the name, and a rerun is exact', async t => {
  const {primary, remote, root} = twoSites(t);
  const mvol = createVolume(primary, '64M');
  const rvol = createVolume(remote, '64M');
  createVolume(remote, '256M', ['--pool']);
  fillDense(imagePath(primary, mvol), 0, 32 * 1024 * 1024);
  cliJson(['pair', 'create', '--site', primary, '--mvol', String(mvol), '--rvol', String(rvol)]);
  cliJson(['log', 'start', '--site', primary, '--pairs', '1', '--group', '1']);
  const {write, mark} = host(t, primary);
  for (let i = 0; i < 16; i++) await write(mvol, i * 3 * 1024 * 1024, randomBytes(1024 * 1024));
  const markId = await mark();
  const expected = sha256(imagePath(primary, mvol));
  for (let round = 0; round < ROUNDS; round++) {
    const file = path.join(root, `restored-${round}.img`);
    await killMidway(['restore', '--site', remote, '--group', '1', '--mark', String(markId), '--rvol', String(rvol), '--to', file], 100 + round * 50);
    if (fs.existsSync(file)) t.is(sha256(file), expected, 'a file under the name is complete');
    else {
      cliJson(['restore', '--site', remote, '--group', '1', '--mark', String(markId), '--rvol', String(rvol), '--to', file]);
      t.is(sha256(file), expected);
    }
    t.deepEqual(fs.readdirSync(root).filter(name => name.includes('.partial-')), [], 'the rerun cleared what the killed restore left');
  }
});
