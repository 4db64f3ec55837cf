import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {BIN, cliJson} from '../helpers/cli.js';
import {createVolume, imagePath, snapshot, twoSites, writeAt} from '../helpers/sites.js';

/** Runs the CLI under a file size limit (ulimit -f, in 1 KiB blocks), as a full or capped file system would refuse growth. */
function underFileLimit(kib: number, args: string[]) {
  const quoted = [process.execPath, BIN, ...args].map(a => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const result = spawnSync('bash', ['-c', `ulimit -f ${kib}; exec ${quoted} --json`], {encoding: 'utf8', env: {...process.env, NODE_ENV: ''}});
  return {code: result.status, error: result.stdout ? JSON.parse(result.stdout).error : undefined, stderr: result.stderr};
}

test('a volume the file system will not let grow is refused with IO_ERROR, and neither an image nor a table row is left', t => {
  const {primary} = twoSites(t);
  const before = snapshot(primary);
  const result = underFileLimit(64, ['volume', 'create', '--site', primary, '--size', '1G']);
  t.is(result.code, 10, result.stderr);
  t.is(result.error.code, 'IO_ERROR');
  t.regex(result.error.message, /EFBIG/);
  t.deepEqual(snapshot(primary), before);
});

test('a restore whose target file cannot grow fails cleanly: no file, no partial, the log untouched, and it works once room is back', t => {
  const {root, primary, remote} = twoSites(t);
  const mvol = createVolume(primary, '4M');
  const rvol = createVolume(remote, '4M');
  createVolume(remote, '4M', ['--pool']);
  cliJson(['pair', 'create', '--site', primary, '--mvol', String(mvol), '--rvol', String(rvol)]);
  cliJson(['log', 'start', '--site', primary, '--pairs', '1']);
  writeAt(primary, mvol, 1000, Buffer.alloc(300_000, 7));
  const {markId} = cliJson(['mark', '--site', primary]);
  const before = snapshot(remote);
  const target = path.join(root, 'restored.img');

  const result = underFileLimit(256, ['restore', '--site', remote, '--group', '1', '--mark', String(markId), '--rvol', String(rvol), '--to', target]);
  t.is(result.code, 10, result.stderr);
  t.is(result.error.code, 'IO_ERROR');
  t.false(fs.existsSync(target));
  t.deepEqual(fs.readdirSync(root).filter(name => name.includes('partial')), []);
  t.deepEqual(snapshot(remote), before);

  cliJson(['restore', '--site', remote, '--group', '1', '--mark', String(markId), '--rvol', String(rvol), '--to', target]);
  t.true(fs.readFileSync(target).equals(fs.readFileSync(imagePath(primary, mvol))));
});
