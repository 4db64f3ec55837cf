import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import {cli, cliJson} from '../helpers/cli.js';
import {killCommandAt, traceCommand} from '../helpers/crash-trace.js';
import {CrashWorld} from '../helpers/crash-world.js';
import {compareImage} from '../helpers/crash-harness.js';

const MiB = 1024 * 1024;

test('Fig. 17: a log start killed after the remote entered log mode, before the primary suspended its pairs, succeeds when run again', async t => {
  const w = new CrashWorld(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'marklog-logstart-')), 'sites'));
  t.teardown(() => fs.rmSync(path.dirname(w.root), {recursive: true, force: true}));
  await w.sites();
  w.volume('p', MiB);
  w.volume('r', MiB);
  await w.pair(0, 0);
  w.volume('r', 4 * MiB, true);
  w.save();
  const args = ['log', 'start', '--site', w.p, '--pairs', '1', '--group', '1'];
  const context = {root: w.root, scratch: path.dirname(w.root)};

  const {ops} = await traceCommand(context, args);
  const primarySaved = ops.filter(op => op.call === 'rename' && op.path.startsWith(path.join(w.p, 'tables.json.tmp-'))).at(-1);
  t.truthy(primarySaved, 'log start saves the primary tables last');
  w.reset();
  const killed = await killCommandAt(context, args, primarySaved!);
  t.is(killed.signal, 'SIGKILL');
  t.is(cliJson(['pair', 'display', '--site', w.p]).pairs[0].state, 'PAIR', 'the primary had not suspended the pair');

  const again = cli([...args, '--json']);
  t.is(again.code, 0, again.stdout);
  const data = Buffer.alloc(70_000, 0x5a);
  cliJson(['write', '--site', w.p, '--vol', '0', '--offset', '100000'], {input: data});
  const {markId} = cliJson(['mark', '--site', w.p, '--group', '1']);
  const restored = path.join(path.dirname(w.root), 'at-mark.img');
  cliJson(['restore', '--site', w.r, '--group', '1', '--mark', String(markId), '--rvol', '0', '--to', restored]);
  const expected = Buffer.from(w.model.images.get('p/volumes/ldev-0000.img')!);
  data.copy(expected, 100_000);
  t.is(compareImage(restored, expected), undefined);
});
