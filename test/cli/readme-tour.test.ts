// README's quick tour runs as written (issue 12, item 13): every command in it, in a
// fresh directory, with `marklog` on the PATH as `npm link` would put it.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import test from 'ava';
import {BIN} from '../helpers/cli.js';
import {tempDir} from '../helpers/sites.js';

const readme = fs.readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

test('README: the quick tour runs command by command in an empty directory', t => {
  const tour = /## A quick tour[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  t.truthy(tour, 'README has the tour');
  const dir = tempDir(t);
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'marklog'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, {mode: 0o755});
  const work = path.join(dir, 'work');
  fs.mkdirSync(work);
  const env = {...process.env, PATH: `${bin}:${process.env.PATH}`, MARKLOG_SITE: undefined, NO_COLOR: '1'};
  const run = spawnSync('bash', ['-euo', 'pipefail', '-x', '-c', tour!], {cwd: work, env, encoding: 'utf8'});
  t.is(run.status, 0, `the tour stopped:\n${run.stderr.split('\n').slice(-8).join('\n')}`);
  t.true(run.stdout.includes('hello'), 'the read prints what the write wrote');
  const commands = tour!.split('\n').filter(line => line.startsWith('marklog ')).length;
  t.true(commands >= 15, `${commands} marklog commands ran`);
});
