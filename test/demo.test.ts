import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {cli} from './helpers/cli.js';
import {tempDir} from './helpers/sites.js';
import {runDemo, type DemoEvent, type DemoResult} from '../src/demo/demo.js';
import {InvalidArgumentError} from '../src/errors.js';

// Each demo builds and hashes two 256 MiB volumes: run them one after the other.
// The CLI run is shared by the two tests that read its JSON.
let jsonRun: ReturnType<typeof cli> | undefined;
function demoJson(t: ExecutionContext): DemoResult {
  jsonRun ??= cli(['demo', '--json']);
  t.is(jsonRun.code, 0, jsonRun.stderr);
  return JSON.parse(jsonRun.stdout) as DemoResult;
}

test.serial('marklog demo --json: R-VOL equals M-VOL in PAIR, differs after three suspended writes, resync copies exactly those 3 chunks', t => {
  const result = demoJson(t);
  t.true(result.ok);
  t.is(result.create.state, 'PAIR');
  t.true(result.create.holeBytes > 0, 'the holes of the sparse M-VOL are not copied byte by byte');
  t.true(result.pairWrites.hashes.match);
  t.is(result.suspend.state, 'PSUS');
  t.is(result.suspend.dirtyChunks, 3);
  t.false(result.suspend.hashes.match);
  t.is(result.resync.state, 'PAIR');
  t.is(result.resync.copiedChunks, 3);
  t.is(result.resync.copiedBytes, 3 * result.pair.chunkSize);
  t.true(result.resync.hashes.match);
  t.is(result.resync.hashes.mvol, result.suspend.hashes.mvol, 'resync brought the R-VOL to the M-VOL, not the other way');
  t.false(result.kept);
  t.false(fs.existsSync(result.dir), 'the temporary directory is gone');
});

test.serial('marklog demo --json: log start, two marks, garbage, and a restore to mark 2 equal to the M-VOL at mark 2', t => {
  const result = demoJson(t);
  t.true(result.ok);
  // Log start took the pool volume and suspended the pair: the R-VOL is the frozen base.
  t.is(result.log.pairState, 'PSUS');
  t.deepEqual(result.log.logVolumes, [result.log.poolLdev]);
  // Two marks from a fresh host registry, each after its writes, all logged in order.
  t.deepEqual(result.markIds, [1, 2]);
  t.deepEqual(result.marks.map(m => m.markId), result.markIds);
  const logIds = [...result.marks.flatMap(m => [...m.writes.map(w => w.logId), m.logId]), ...result.garbage.writes.map(w => w.logId)];
  t.deepEqual(logIds, logIds.map((_, i) => i + 1), 'writes and marks share one log ID sequence starting at 1');
  t.is(result.log.records, logIds.length);
  t.is(result.log.marks, 2);
  t.true(result.garbage.writes.length > 0);
  t.not(result.marks[0].mvolHash, result.marks[1].mvolHash);
  t.not(result.marks[1].mvolHash, result.garbage.mvolHash, 'the garbage changed the M-VOL after mark 2');
  // The restore replays exactly the writes before mark 2 and none of the garbage.
  t.is(result.restore.markId, 2);
  t.is(result.restore.records, result.marks[0].writes.length + result.marks[1].writes.length);
  t.is(result.restore.bytes, [...result.marks[0].writes, ...result.marks[1].writes].reduce((n, w) => n + w.length, 0));
  t.is(result.restore.expected, result.marks[1].mvolHash);
  t.is(result.restore.sha256, result.marks[1].mvolHash, 'the restored image is the M-VOL as it was at mark 2');
  t.not(result.restore.sha256, result.garbage.mvolHash);
  t.true(result.restore.restoredHashMatches);
  t.true(result.restore.differsFromCurrentMvol);
  t.false(fs.existsSync(result.restore.file), 'the restored image went with the temporary directory');
});

test.serial('the demo tells its story in eleven steps and keeps the sites when asked', async t => {
  const dir = path.join(tempDir(t), 'demo');
  const events: DemoEvent[] = [];
  const result = await runDemo({dir, keep: true, onEvent: event => events.push(event)});
  t.true(result.ok);
  t.is(result.dir, dir);
  t.deepEqual(events.filter(e => e.kind === 'step').map(e => (e as {number: number}).number), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  t.deepEqual(events.filter(e => e.kind === 'hashes').map(e => (e as {hashes: {match: boolean}}).hashes.match), [true, false, true]);
  t.is(events.filter(e => e.kind === 'logStatus').length, 1);
  t.is(events.filter(e => e.kind === 'marks').length, 1);
  t.true(fs.existsSync(path.join(dir, 'tokyo', 'tables.json')));
  t.true(fs.existsSync(path.join(dir, 'osaka', 'tables.json')));
  t.true(fs.existsSync(result.restore.file));
  t.is(path.dirname(path.dirname(result.restore.file)), dir);
  const pairs = JSON.parse(cli(['pair', 'display', '--site', path.join(dir, 'tokyo'), '--json']).stdout);
  t.is(pairs.pairs[0].state, 'PSUS', 'the pair stays in log mode');
  // The kept sites answer the same questions from the CLI, and mark 1 is still restorable.
  const marks = JSON.parse(cli(['mark', 'list', '--site', path.join(dir, 'osaka'), '--group', String(result.log.group), '--json']).stdout);
  t.deepEqual(marks.groups[0].marks.map((m: {markId: number}) => m.markId), result.markIds);
  const atMark1 = path.join(dir, 'restored', 'app-at-mark-1.img');
  const restore = cli(['restore', '--site', path.join(dir, 'osaka'), '--group', String(result.log.group), '--mark', '1',
    '--rvol', String(result.rvol.ldev), '--to', atMark1, '--json']);
  t.is(restore.code, 0, restore.stderr);
  t.is(crypto.createHash('sha256').update(fs.readFileSync(atMark1)).digest('hex'), result.marks[0].mvolHash);
});

test.serial('the demo refuses a directory that is not empty and leaves it alone', async t => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'precious'), 'data');
  const error = await t.throwsAsync(() => runDemo({dir}), {instanceOf: InvalidArgumentError});
  t.is(error?.code, 'INVALID_ARGUMENT');
  t.deepEqual(fs.readdirSync(dir), ['precious']);
});
