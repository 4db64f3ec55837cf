import fs from 'node:fs';

import test from 'ava';
import {cli, cliJson, cliSpawn} from '../helpers/cli.js';
import {exited} from '../helpers/processes.js';
import {linesFrom} from '../helpers/wait.js';
import {createVolume, imagePath, randomBytes, sha256, twoSites, writeAt} from '../helpers/sites.js';

test('Fig. 22: the whole drill — heartbeat lost on both paths, takeover at the last mark, writes at the remote, reverse resync', async t => {
  const {primary, remote} = twoSites(t);
  const mvol = createVolume(primary, '4M');
  const rvol = createVolume(remote, '4M');
  createVolume(remote, '4M', ['--pool']);
  writeAt(primary, mvol, 0, randomBytes(1024 * 1024));
  cliJson(['pair', 'create', '--site', primary, '--mvol', String(mvol), '--rvol', String(rvol)]);
  cliJson(['log', 'start', '--site', primary, '--pairs', '1', '--group', '1']);

  // Production runs: writes and marks; the last writes come after the last mark.
  writeAt(primary, mvol, 70_000, Buffer.from('committed transaction'));
  const mark1 = cliJson(['mark', '--site', primary, '--app', 'db']);
  writeAt(primary, mvol, 140_000, Buffer.from('second commit'));
  const mark2 = cliJson(['mark', '--site', primary, '--app', 'db']);
  const atMark2 = fs.readFileSync(imagePath(primary, mvol));
  writeAt(primary, mvol, 2_000_000, Buffer.alloc(8192, 0xee)); // garbage from a failing site

  // The production side answers heartbeats on two loopback paths.
  const server = cliSpawn(['heartbeat', 'serve', '--listen', '127.0.0.1:0', '--listen', '127.0.0.1:0']);
  t.teardown(() => server.kill('SIGKILL'));
  const [mainAddress, alternateAddress] = (await linesFrom(server, 2, 'the heartbeat server to print its two addresses')).map(line => line.split(' ').at(-1)!);

  // A 250 ms interval: a probe times out after one interval, so a busy machine does
  // not make a live host look silent.
  const watcher = cliSpawn(['heartbeat', 'watch', '--main', mainAddress, '--alternate', alternateAddress, '--interval', '250', '--misses', '3',
    '--takeover-on-loss', '--site', remote, '--group', '1', '--mark', 'latest', '--exit-on-loss', '--max-time', '120000', '--json']);
  t.teardown(() => watcher.kill('SIGKILL'));
  const watched = exited(watcher);
  // The watcher has seen the host alive before the host dies.
  t.is(JSON.parse((await linesFrom(watcher, 1, 'the watcher\'s first state (OK)'))[0]).state, 'OK');

  // The primary site dies: its heartbeat stops and its directory goes away.
  server.kill('SIGTERM');
  fs.renameSync(primary, `${primary}.gone`);
  const result = await watched;
  t.is(result.code, 0, result.stderr);
  const states = result.stdout.trim().split('\n').map(line => JSON.parse(line).state);
  // A probe the loaded machine answered late may add a MAIN_MISSED (and RECOVERED) before the end.
  t.is(states[0], 'OK');
  t.deepEqual(states.slice(-4), ['MAIN_MISSED', 'TRYING_ALTERNATE', 'LOST', 'ACTION'], states.join(' '));
  t.true(states.slice(1, -4).every(s => s === 'MAIN_MISSED' || s === 'RECOVERED'), states.join(' '));
  const action = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
  t.is(action.takeover.markId, mark2.markId);
  t.is(action.takeover.droppedRecords, 1);

  // The R-VOL is the M-VOL as it was at mark 2: the garbage after it was dropped.
  t.true(fs.readFileSync(imagePath(remote, rvol)).equals(atMark2));
  t.not(mark1.markId, mark2.markId);

  // Hosts now write at the remote.
  writeAt(remote, rvol, 3_000_000, Buffer.from('written during the outage'));

  // The primary comes back; failback copies the union of both bitmaps to the M-VOL.
  fs.renameSync(`${primary}.gone`, primary);
  const failback = cliJson(['pair', 'resync', '--site', primary, '--pair', '1', '--reverse']);
  t.is(failback.state, 'PAIR');
  t.is(failback.direction, 'reverse');
  t.is(sha256(imagePath(primary, mvol)), sha256(imagePath(remote, rvol)));
  const display = cliJson(['pair', 'display', '--site', primary, '--pair', '1']);
  t.is(display.pairs[0].direction, 'reverse');

  // Reversed: writes at the remote reach the M-VOL at once; the M-VOL takes no host writes.
  writeAt(remote, rvol, 10, Buffer.from('after failback'));
  t.is(sha256(imagePath(primary, mvol)), sha256(imagePath(remote, rvol)));
  t.is(cli(['write', '--site', primary, '--vol', String(mvol), '--offset', '0'], {input: 'x'}).code, 4);

  // Running it again swaps back: the primary is the source once more.
  t.is(cliJson(['pair', 'resync', '--site', primary, '--pair', '1', '--reverse']).direction, 'forward');
  writeAt(primary, mvol, 20, Buffer.from('primary again'));
  t.is(sha256(imagePath(primary, mvol)), sha256(imagePath(remote, rvol)));
  t.is(cli(['write', '--site', remote, '--vol', String(rvol), '--offset', '0'], {input: 'x'}).code, 4);
});

test('Fig. 22: no split brain — a primary write after takeover fails with TAKEN_OVER, lands on the M-VOL and is tracked for failback', t => {
  const {primary, remote} = twoSites(t);
  const mvol = createVolume(primary, '2M');
  const rvol = createVolume(remote, '2M');
  createVolume(remote, '1M', ['--pool']);
  cliJson(['pair', 'create', '--site', primary, '--mvol', String(mvol), '--rvol', String(rvol)]);
  cliJson(['log', 'start', '--site', primary, '--pairs', '1', '--group', '1']);
  writeAt(primary, mvol, 0, Buffer.from('before'));
  cliJson(['mark', '--site', primary, '--app', 'db']);
  const taken = cliJson(['takeover', '--site', remote, '--group', '1']);
  t.is(taken.volumes[0].state, 'SSWS');
  const before = cliJson(['pair', 'display', '--site', primary, '--pair', '1']).pairs[0].dirtyChunks;

  const data = Buffer.from('split brain attempt');
  const chunk = 5;
  const result = cli(['write', '--site', primary, '--vol', String(mvol), '--offset', String(chunk * 65536), '--json'], {input: data});
  t.is(result.code, 4);
  t.is(JSON.parse(result.stdout).error.code, 'TAKEN_OVER');
  t.true(fs.readFileSync(imagePath(primary, mvol)).subarray(chunk * 65536, chunk * 65536 + data.length).equals(data), 'the write is on the M-VOL');
  t.false(fs.readFileSync(imagePath(remote, rvol)).includes(data), 'and not on the taken-over R-VOL');
  const after = cliJson(['pair', 'display', '--site', primary, '--pair', '1']).pairs[0];
  t.is(after.state, 'SSWS');
  t.is(after.dirtyChunks, before + 1);
  t.is(cli(['mark', '--site', primary, '--json']).code, 4);

  // Failback carries the primary's divergent write too, then the R-VOL's data wins everywhere.
  writeAt(remote, rvol, chunk * 65536, Buffer.from('remote truth'));
  cliJson(['pair', 'resync', '--site', primary, '--pair', '1', '--reverse']);
  t.is(sha256(imagePath(primary, mvol)), sha256(imagePath(remote, rvol)));
});
