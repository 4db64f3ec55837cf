// Issue 14, item 5: a kernel file system and a database on top of `marklog serve`.
// nbdfuse makes the export a file, a loop device makes it a disk, ext4 and SQLite
// write to it as to any disk, and an application mark taken while it serves is a
// point the remote can restore: the patent's Fig. 19 (marks from the application)
// and Fig. 23 (restore to a mark) with a real file system and a real database.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cliJson} from '../helpers/cli.js';
import {filesUnder, fsck, fuseFile, loopDevice, mounted, mountedReadOnly} from '../helpers/kernel-fs.js';
import {loggingSites, restore, type MarkResult} from '../helpers/logging.js';
import {run, serve} from '../helpers/serve.js';
import {imagePath, sha256} from '../helpers/sites.js';

interface Order {
  id: number;
  item: string;
  qty: number;
}

function orders(first: number, count: number): Order[] {
  return Array.from({length: count}, (_, i) => ({id: first + i, item: crypto.randomBytes(12).toString('hex'), qty: 1 + (i % 97)}));
}

/** One committed SQLite transaction: the statements between BEGIN and COMMIT. */
function commit(db: string, statements: string[]): void {
  run('sqlite3', [db], `BEGIN;\n${statements.join('\n')}\nCOMMIT;\n`);
}

const insert = (o: Order) => `INSERT INTO orders VALUES (${o.id}, '${o.item}', ${o.qty});`;

/** The table as `sqlite3` prints it, ordered by id; a database opened read-only. */
function rowsOf(db: string): string {
  return run('sqlite3', ['-readonly', db, 'SELECT id, item, qty FROM orders ORDER BY id;']);
}

const rowsText = (rows: Order[]) => rows.map(o => `${o.id}|${o.item}|${o.qty}\n`).join('');

const integrity = (db: string) => run('sqlite3', ['-readonly', db, 'PRAGMA integrity_check;']).trim();

/** Files of several sizes under `dir`, and what they hold. */
function writeFiles(dir: string, sizes: Record<string, number>): Map<string, Buffer> {
  const written = new Map<string, Buffer>();
  for (const [name, size] of Object.entries(sizes)) {
    const data = crypto.randomBytes(size);
    fs.mkdirSync(path.dirname(path.join(dir, name)), {recursive: true});
    fs.writeFileSync(path.join(dir, name), data);
    written.set(name, data);
  }
  return written;
}

test('a mark issued between two committed SQLite transactions on ext4 over NBD restores at the remote to exactly the first: e2fsck is clean, integrity_check is ok, the rows and files from before the mark are there', async t => {
  const sites = loggingSites(t, {size: '256M', logSize: '256M', base: 'holes'});
  const {mvol, rvol} = sites.members[0];
  const mark = (app: string) => cliJson<MarkResult>(['mark', '--site', sites.primary, '--group', String(sites.group), '--app', app]).markId;
  const served = await serve(t, sites.primary, ['--vol', String(mvol)]);
  // The export as a disk: nbdfuse → a loop device → ext4, mounted.
  const fuse = await fuseFile(t, path.join(sites.root, 'fuse'), `${served.url}/${mvol}`);
  const disk = loopDevice(t, fuse.file);
  run('mkfs.ext4', ['-q', '-F', disk.device]);
  const live = mounted(t, disk.device, path.join(sites.root, 'live'));
  const db = path.join(live.dir, 'shop.db');

  // Before the mark: files, and transaction 1 (SQLite fsyncs its commit; sync sends every dirty block and a FLUSH to the server).
  const filesBefore = writeFiles(live.dir, {'docs/blob.bin': 1024 * 1024, 'docs/notes.txt': 300, 'docs/deep/dir/odd.bin': 4097, 'one-byte': 1});
  run('sqlite3', [db, 'CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL, qty INTEGER NOT NULL);']);
  const transaction1 = orders(1, 5000);
  commit(db, transaction1.map(insert));
  run('sync', []);
  // A mark after sync alone is crash-consistent (ext4's journal still to replay); with the file system frozen it is clean.
  const afterSync = mark('shop after sync');
  run('fsfreeze', ['-f', live.dir]);
  const frozen = mark('shop, file system frozen');
  run('fsfreeze', ['-u', live.dir]);

  // After the mark: transaction 2 rewrites the table, and garbage lands on the files.
  const transaction2 = orders(5001, 2000);
  commit(db, [
    ...transaction2.map(insert),
    'UPDATE orders SET qty = qty + 1000 WHERE id % 10 = 0;',
    'DELETE FROM orders WHERE id % 50 = 1;',
  ]);
  const blob = fs.openSync(path.join(live.dir, 'docs/blob.bin'), 'r+');
  fs.writeSync(blob, crypto.randomBytes(256 * 1024), 0, 256 * 1024, 4096);
  fs.closeSync(blob);
  fs.rmSync(path.join(live.dir, 'docs/notes.txt'));
  fs.appendFileSync(path.join(live.dir, 'docs/deep/dir/odd.bin'), 'garbage');
  writeFiles(live.dir, {'garbage.bin': 8 * 1024 * 1024});
  run('sync', []);
  const afterRows = [...transaction1, ...transaction2].filter(o => o.id % 50 !== 1).map(o => ({...o, qty: o.id % 10 === 0 ? o.qty + 1000 : o.qty}));
  t.is(rowsOf(db), rowsText(afterRows), 'the live database holds transaction 2');

  live.unmount();
  disk.detach();
  t.like(await fuse.unmount(), {code: 0}, 'nbdfuse exits 0 once its mount is lifted');
  const unmounted = mark('shop unmounted');
  served.child.kill('SIGTERM');
  t.like(await served.done, {code: 0});

  const expectedFiles = [...filesBefore.keys(), 'shop.db'].sort();
  const checkAtMark = (dir: string, what: string) => {
    t.is(integrity(path.join(dir, 'shop.db')), 'ok', `${what}: PRAGMA integrity_check`);
    t.is(rowsOf(path.join(dir, 'shop.db')), rowsText(transaction1), `${what}: exactly the 5,000 rows of transaction 1`);
    const files = filesUnder(dir);
    t.deepEqual([...files.keys()].sort(), expectedFiles, `${what}: the files from before the mark, and no other`);
    for (const [name, data] of filesBefore) t.true(files.get(name)!.equals(data), `${what}: ${name} holds what was written before the mark`);
  };

  // The frozen mark: e2fsck finds nothing to ask about, and a read-only mount needs no journal replay.
  const frozenImage = path.join(sites.root, 'frozen.img');
  restore(sites.remote, sites.group, ['--mark', String(frozen), '--rvol', String(rvol), '--to', frozenImage]);
  const frozenCheck = fsck(frozenImage);
  t.is(frozenCheck.code, 0, frozenCheck.output);
  t.notRegex(frozenCheck.output, /\?|journal/i, 'nothing to fix and no journal to replay');
  const frozenView = mountedReadOnly(t, frozenImage, path.join(sites.root, 'at-frozen-mark'));
  checkAtMark(frozenView.dir, 'the frozen mark');
  frozenView.detach();

  // The mark after sync, like a disk after a power cut: a mount replays ext4's journal, then everything committed is there.
  const syncedImage = path.join(sites.root, 'after-sync.img');
  restore(sites.remote, sites.group, ['--mark', String(afterSync), '--rvol', String(rvol), '--to', syncedImage]);
  const replayDisk = loopDevice(t, syncedImage);
  const replayed = mounted(t, replayDisk.device, path.join(sites.root, 'at-sync-mark'));
  checkAtMark(replayed.dir, 'the mark after sync');
  replayed.unmount();
  replayDisk.detach();
  const syncedCheck = fsck(syncedImage);
  t.is(syncedCheck.code, 0, syncedCheck.output);
  t.notRegex(syncedCheck.output, /\?/, 'after the replay, nothing to fix');

  // The last mark restores to the M-VOL byte for byte, and there transaction 2 is committed.
  const lastImage = path.join(sites.root, 'unmounted.img');
  restore(sites.remote, sites.group, ['--mark', String(unmounted), '--rvol', String(rvol), '--to', lastImage]);
  t.is(sha256(lastImage), sha256(imagePath(sites.primary, mvol)));
  const mvolView = mountedReadOnly(t, imagePath(sites.primary, mvol), path.join(sites.root, 'mvol'));
  t.is(rowsOf(path.join(mvolView.dir, 'shop.db')), rowsText(afterRows));
  mvolView.detach();
});

test('qemu-img convert -n writes an ext4 image made by mke2fs -d onto an export: the M-VOL is that image byte for byte, e2fsck finds it clean, its files are the directory\'s, and a mark restores it at the remote and, served read-only without a restore, mounts with the same files', async t => {
  // A random base: qemu-img has to zero what the image leaves as holes.
  const sites = loggingSites(t, {size: '64M', logSize: '128M'});
  const {mvol, rvol} = sites.members[0];
  const tree = path.join(sites.root, 'tree');
  const written = writeFiles(tree, {'a.bin': 3 * 1024 * 1024 + 17, 'etc/config.txt': 900, 'var/lib/data/b.bin': 512 * 1024, 'var/empty': 0});
  const source = path.join(sites.root, 'ext4.img');
  fs.writeFileSync(source, '');
  fs.truncateSync(source, sites.capacity);
  run('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', tree, source]);
  const served = await serve(t, sites.primary);
  run('qemu-img', ['convert', '-n', '-f', 'raw', '-O', 'raw', source, `${served.url}/${mvol}`]);
  const {markId} = cliJson<MarkResult>(['mark', '--site', sites.primary, '--app', 'qemu-img']);
  served.child.kill('SIGTERM');
  t.like(await served.done, {code: 0});

  const mvolFile = imagePath(sites.primary, mvol);
  t.is(sha256(mvolFile), sha256(source), 'the M-VOL is the image');
  const check = fsck(mvolFile);
  t.is(check.code, 0, check.output);
  t.notRegex(check.output, /\?/);
  const view = mountedReadOnly(t, mvolFile, path.join(sites.root, 'mvol'));
  const files = filesUnder(view.dir);
  t.deepEqual([...files.keys()].sort(), [...written.keys()].sort());
  for (const [name, data] of written) t.true(files.get(name)!.equals(data), name);
  view.detach();
  const restored = path.join(sites.root, 'restored.img');
  restore(sites.remote, sites.group, ['--mark', String(markId), '--rvol', String(rvol), '--to', restored]);
  t.is(sha256(restored), sha256(source), 'the mark restores the image at the remote');

  // The same mark without restoring it (issue 14, item 4): garbage written after the mark,
  // then the mark served at the remote, through nbdfuse and a read-only loop device, mounted.
  sites.host.write(mvol, 0, crypto.randomBytes(2 * 1024 * 1024));
  const atMark = await serve(t, sites.remote, ['--group', String(sites.group), '--mark', String(markId)]);
  const fuse = await fuseFile(t, path.join(sites.root, 'mark-fuse'), `${atMark.url}/${rvol}`);
  const markCheck = fsck(fuse.file);
  t.is(markCheck.code, 0, markCheck.output);
  const loop = loopDevice(t, fuse.file, {readOnly: true});
  const markView = mounted(t, loop.device, path.join(sites.root, 'mark-mount'), 'ro');
  const markFiles = filesUnder(markView.dir);
  t.deepEqual([...markFiles.keys()].sort(), [...written.keys()].sort());
  for (const [name, data] of written) t.true(markFiles.get(name)!.equals(data), `${name} in the mark export`);
  markView.unmount();
  loop.detach();
  await fuse.unmount();
  atMark.child.kill('SIGTERM');
  t.like(await atMark.done, {code: 0});
});
