import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cli} from './helpers/cli.js';
import {tempDir} from './helpers/sites.js';
import {runDemo, type DemoEvent, type DemoResult} from '../src/demo/demo.js';
import {InvalidArgumentError} from '../src/errors.js';

// Each demo builds and hashes two 256 MiB volumes: run them one after the other.
test.serial('marklog demo --json: R-VOL equals M-VOL in PAIR, differs after three suspended writes, resync copies exactly those 3 chunks', t => {
  const run = cli(['demo', '--json']);
  t.is(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout) as DemoResult;
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

test.serial('the demo tells its story in seven steps and keeps the sites when asked', t => {
  const dir = path.join(tempDir(t), 'demo');
  const events: DemoEvent[] = [];
  const result = runDemo({dir, keep: true, onEvent: event => events.push(event)});
  t.true(result.ok);
  t.is(result.dir, dir);
  t.deepEqual(events.filter(e => e.kind === 'step').map(e => (e as {number: number}).number), [1, 2, 3, 4, 5, 6, 7]);
  t.deepEqual(events.filter(e => e.kind === 'hashes').map(e => (e as {hashes: {match: boolean}}).hashes.match), [true, false, true]);
  t.true(fs.existsSync(path.join(dir, 'tokyo', 'tables.json')));
  t.true(fs.existsSync(path.join(dir, 'osaka', 'tables.json')));
  const pairs = JSON.parse(cli(['pair', 'display', '--site', path.join(dir, 'tokyo'), '--json']).stdout);
  t.is(pairs.pairs[0].state, 'PAIR');
});

test.serial('the demo refuses a directory that is not empty and leaves it alone', t => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'precious'), 'data');
  const error = t.throws(() => runDemo({dir}), {instanceOf: InvalidArgumentError});
  t.is(error?.code, 'INVALID_ARGUMENT');
  t.deepEqual(fs.readdirSync(dir), ['precious']);
});
