import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import test from 'ava';
import {exited} from '../helpers/processes.js';
import {loggedPair} from '../helpers/library-sites.js';
import {Journal} from '../../src/log/journal.js';
import {findGroup} from '../../src/log/remote-log.js';
import {loadRegistry} from '../../src/mark/host-registry.js';
import {verifySite} from '../../src/verify/verify.js';

const HOST = fileURLToPath(new URL('../helpers/busy-host.js', import.meta.url));
const CAPACITY = 4 * 1024 * 1024;

test('four hosts writing, marking and reading status at once: no log ID or mark ID is lost or repeated, tables stay intact', async t => {
  const {p, r, remote, mvol} = await loggedPair(t, CAPACITY);

  const hosts = [1, 2, 3, 4].map(seed =>
    exited(spawn(process.execPath, [HOST, p, r, String(mvol), String(CAPACITY), String(seed), '3000'], {stdio: ['ignore', 'pipe', 'pipe']})));
  const results = await Promise.all(hosts);
  for (const result of results) t.is(result.code, 0, result.stderr);
  const lines = results.flatMap(result => result.stdout.trim().split('\n'));
  const ackedLogIds = lines.filter(l => !l.startsWith('status')).map(l => Number(l.split(' ').at(-1)));
  const ackedMarks = lines.filter(l => l.startsWith('mark')).map(l => Number(l.split(' ')[1]));
  t.true(ackedMarks.length >= 4, `${ackedMarks.length} marks`);
  t.is(new Set(ackedLogIds).size, ackedLogIds.length, 'no log ID acknowledged twice');
  t.is(new Set(ackedMarks).size, ackedMarks.length, 'no mark ID acknowledged twice');

  const tables = remote.tables();
  const journal = Journal.open(remote, tables, findGroup(remote, tables, 1));
  const logIds: number[] = [];
  const marks: {markId: number; logId: number}[] = [];
  for (const {record} of journal.records(damage => t.fail(`damage: ${damage.reason}`))) {
    logIds.push(record.logId);
    if (record.kind === 'mark') marks.push({markId: record.markId, logId: record.logId});
  }
  t.deepEqual(logIds, Array.from({length: logIds.length}, (_, i) => i + 1), 'log IDs run 1..N without a gap');
  t.deepEqual([...ackedLogIds].sort((a, b) => a - b), logIds, 'every record is one a host had acknowledged');
  t.deepEqual(marks.map(m => m.markId), [...ackedMarks].sort((a, b) => a - b), 'the log holds exactly the acknowledged marks, in ID order');
  t.deepEqual(loadRegistry(p).groups['1'].marks.map(m => m.markId), marks.map(m => m.markId), 'the host registry agrees');
  for (const dir of [p, r]) t.deepEqual((await verifySite(dir)).findings, []);
  t.true(fs.existsSync(path.join(p, 'tables.json')));
});

test('site files are readable by their owner only', async t => {
  const {root, p, r} = await loggedPair(t, CAPACITY, CAPACITY);
  const walk = (dir: string): string[] => fs.readdirSync(dir, {withFileTypes: true})
    .flatMap(entry => entry.isDirectory() ? [path.join(dir, entry.name), ...walk(path.join(dir, entry.name))] : [path.join(dir, entry.name)]);
  for (const file of [p, r, ...walk(p), ...walk(r)]) {
    t.is(fs.statSync(file).mode & 0o077, 0, `${path.relative(root, file)} is owner-only`);
  }
});
