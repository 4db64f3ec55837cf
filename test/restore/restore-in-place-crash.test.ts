import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import {cli} from '../helpers/cli.js';
import {killCommandAt, traceCommand} from '../helpers/crash-trace.js';
import {CrashWorld, imageName} from '../helpers/crash-world.js';
import {compareImage} from '../helpers/crash-harness.js';

const MiB = 1024 * 1024;

test('Fig. 23: an in-place restore killed while it writes the R-VOL finishes when the same command runs again', async t => {
  const w = new CrashWorld(fs.mkdtempSync(path.join(os.tmpdir(), 'marklog-inplace-')) + '/sites');
  t.teardown(() => fs.rmSync(path.dirname(w.root), {recursive: true, force: true}));
  await w.sites();
  w.volume('p', MiB);
  w.volume('r', MiB);
  await w.pair(0, 0);
  w.volume('r', 4 * MiB, true);
  await w.logStart([1], [{mvol: 0, rvol: 0}]);
  await w.write(0, 4096, Buffer.alloc(5000, 0xa1));
  await w.write(0, 300_000, Buffer.alloc(70_000, 0xb2));
  const mark = await w.mark();
  await w.write(0, 8192, Buffer.alloc(4096, 0xc3));
  w.save();
  const args = ['restore', '--site', w.r, '--group', '1', '--mark', String(mark), '--to', 'rvol', '--force', '--json'];
  const context = {root: w.root, scratch: path.dirname(w.root)};

  const {ops} = await traceCommand(context, args);
  const intoRvol = ops.find(op => op.changes && op.path === path.join(w.root, imageName('r', 0)));
  t.truthy(intoRvol, 'the restore writes the R-VOL in place');
  w.reset();
  const killed = await killCommandAt(context, args, intoRvol!);
  t.is(killed.signal, 'SIGKILL');

  const again = cli(args);
  t.is(again.code, 0, again.stdout);
  t.is(compareImage(path.join(w.root, imageName('r', 0)), w.model.marks.get(mark)!.get(0)!), undefined);
  t.is(cli(['verify', '--site', w.r]).code, 0);
});
