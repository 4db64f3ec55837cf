import {spawn} from 'node:child_process';
import test from 'ava';
import {BIN} from '../helpers/cli.js';
import {exited} from '../helpers/processes.js';
import {loggingSites, markList, type MarkResult} from '../helpers/logging.js';

test('Figs. 18-20: 20 mark processes started at once get 20 distinct mark IDs, each in the remote log and the host registry, rising with log ID', async t => {
  const {primary, remote, host, members, group} = loggingSites(t);
  host.writeRandom(members[0].mvol, 0, 4096);

  const runs = Array.from({length: 20}, (_, i) => exited(spawn(process.execPath, [BIN, 'mark', '--site', primary, '--app', `cron-${i}`, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })));
  const exits = await Promise.all(runs);

  t.deepEqual(exits.map(e => e.code), Array(20).fill(0), exits.map(e => e.stderr).join(''));
  const marks = exits.map(e => JSON.parse(e.stdout) as MarkResult);
  const ids = marks.map(m => m.markId);
  t.is(new Set(ids).size, 20, `mark IDs ${ids.join(',')}`);
  t.is(new Set(marks.map(m => m.logId)).size, 20);
  const byMark = [...marks].sort((a, b) => a.markId - b.markId);
  t.deepEqual(byMark.map(m => m.logId), [...marks.map(m => m.logId)].sort((a, b) => a - b), 'a later mark ID always has a later log ID');

  const atRemote = markList(remote, group);
  t.deepEqual(atRemote.map(m => m.markId), byMark.map(m => m.markId));
  t.deepEqual(atRemote.map(m => m.logId), byMark.map(m => m.logId));
  t.deepEqual(atRemote.map(m => m.app), byMark.map(m => m.app));
  t.true(atRemote.every(m => m.remote === true));

  const atHost = markList(primary, group);
  t.deepEqual(atHost.map(m => m.markId), byMark.map(m => m.markId));
  t.deepEqual(atHost.map(m => m.logId), byMark.map(m => m.logId));
  t.true(atHost.every(m => m.host === true && m.remote === true), JSON.stringify(atHost.filter(m => !(m.host && m.remote))));
  for (let i = 1; i < atHost.length; i++) t.true(atHost[i].logId > atHost[i - 1].logId);
});
