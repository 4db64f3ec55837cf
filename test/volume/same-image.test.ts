// One file is one copy of the data, whatever names reach it (issue 12, item 1): a
// second import of an image, by a symlink, a hard link or at the other site, is
// refused, and so is a pair whose M-VOL and R-VOL are one file.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cli, cliJson} from '../helpers/cli.js';
import {snapshot, tempDir, twoSites} from '../helpers/sites.js';

function refusedWith(t: any, args: string[], code: string, unchanged: string[]): void {
  const before = unchanged.map(dir => snapshot(dir));
  const result = cli([...args, '--json']);
  t.is(result.code, 4, args.join(' '));
  t.is(JSON.parse(result.stdout).error.code, code);
  t.deepEqual(unchanged.map(dir => snapshot(dir)), before, 'nothing changed');
}

test('an image already a volume is refused a second LDEV: at the other site, through a symlink, through a hard link', t => {
  const {root, primary, remote} = twoSites(t);
  const shared = path.join(root, 'shared.img');
  fs.writeFileSync(shared, Buffer.alloc(1024 * 1024));
  t.is(cliJson(['volume', 'import', shared, '--site', primary]).ldev, 0);
  refusedWith(t, ['volume', 'import', shared, '--site', remote], 'VOLUME_IN_USE', [primary, remote]);
  const symlink = path.join(root, 'alias.img');
  fs.symlinkSync(shared, symlink);
  refusedWith(t, ['volume', 'import', symlink, '--site', primary], 'VOLUME_IN_USE', [primary, remote]);
  refusedWith(t, ['volume', 'import', symlink, '--site', remote], 'VOLUME_IN_USE', [primary, remote]);
  const hardlink = path.join(root, 'hard.img');
  fs.linkSync(shared, hardlink);
  refusedWith(t, ['volume', 'import', hardlink, '--site', primary], 'VOLUME_IN_USE', [primary, remote]);
  const other = path.join(root, 'other.img');
  fs.writeFileSync(other, Buffer.alloc(1024 * 1024));
  t.is(cliJson(['volume', 'import', other, '--site', remote]).ldev, 0, 'another file is welcome');
});

test('a pair whose M-VOL and R-VOL are one file is refused (imported before the sites were linked)', t => {
  const root = tempDir(t);
  const [primary, remote] = ['primary', 'remote'].map(name => path.join(root, name));
  cliJson(['site', 'init', primary, '--role', 'primary']);
  cliJson(['site', 'init', remote, '--role', 'remote']);
  const shared = path.join(root, 'shared.img');
  fs.writeFileSync(shared, Buffer.alloc(1024 * 1024));
  cliJson(['volume', 'import', shared, '--site', primary]);
  cliJson(['volume', 'import', path.join(root, '.', 'shared.img'), '--site', remote]);
  cliJson(['site', 'link', '--site', primary, '--remote', remote]);
  refusedWith(t, ['pair', 'create', '--site', primary, '--mvol', '0', '--rvol', '0'], 'VOLUME_IN_USE', [primary, remote]);
});
