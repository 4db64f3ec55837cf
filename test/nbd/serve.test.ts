// Issue 14, item 1 (a start): `marklog serve` speaks NBD to the real clients a host
// uses — qemu-img, qemu-io, nbdcopy, nbdinfo — and what they write goes the host write
// path: replicated, journalled, and restorable at the remote from a mark issued while
// the server runs.
import {spawnSync} from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cli, cliJson} from '../helpers/cli.js';
import {digest, imageBytes, loggingSites} from '../helpers/logging.js';
import {NbdClient} from '../helpers/nbd-client.js';
import {attempt, run, serve} from '../helpers/serve.js';
import {imagePath} from '../helpers/sites.js';

test('Fig. 19 through NBD: qemu-img, nbdcopy and qemu-io write through marklog serve; a mark issued while it serves restores at the remote to exactly what they wrote', async t => {
  const sites = loggingSites(t, {size: '16M', logSize: '64M'});
  const {mvol, rvol} = sites.members[0];
  const served = await serve(t, sites.primary);
  const url = `${served.url}/${mvol}`;
  // qemu-img: a 4 MiB image with a pattern, copied onto the export.
  const image = path.join(sites.root, 'disk.img');
  const pattern = crypto.randomBytes(4 * 1024 * 1024);
  fs.writeFileSync(image, pattern);
  run('qemu-img', ['convert', '-n', '-f', 'raw', '-O', 'raw', image, url]);
  const second = path.join(sites.root, 'second.img');
  fs.writeFileSync(second, crypto.randomBytes(2 * 1024 * 1024));
  // qemu-io: patterns, zeros and a discard, each with FUA (qemu-io's default), then a flush.
  run('qemu-io', ['-f', 'raw', '-c', 'write -P 0x5a 12M 64k', '-c', 'write -z 1M 256k', '-c', 'discard 2M 64k', '-c', 'flush', url]);
  // nbdcopy: 2 MiB at the front, with a flush at the end (several requests in flight).
  run('nbdcopy', ['--flush', second, url]);
  const {markId} = cliJson(['mark', '--site', sites.primary, '--app', 'while-serving']);
  // What the host wrote, in order: the image, the qemu-io requests, then nbdcopy's 2 MiB at offset 0.
  const expected = Buffer.from(sites.host.now(mvol));
  pattern.copy(expected, 0);
  expected.fill(0x5a, 12 * 1024 * 1024, 12 * 1024 * 1024 + 65536);
  expected.fill(0, 1024 * 1024, 1024 * 1024 + 256 * 1024);
  expected.fill(0, 2 * 1024 * 1024, 2 * 1024 * 1024 + 65536);
  fs.readFileSync(second).copy(expected, 0);
  t.is(digest(imageBytes(imagePath(sites.primary, mvol))), digest(expected), 'the M-VOL holds what the clients wrote');
  served.child.kill('SIGTERM');
  t.like(await served.done, {code: 0}, 'SIGTERM drains, flushes and exits 0');
  const restored = path.join(sites.root, 'restored.img');
  cliJson(['restore', '--site', sites.remote, '--group', String(sites.group), '--mark', String(markId), '--rvol', String(rvol), '--to', restored]);
  t.is(digest(imageBytes(restored)), digest(expected), 'the mark restores to exactly that at the remote');
  t.is(cli(['verify', '--site', sites.remote]).code, 0);
});

test('nbdinfo sees every volume hosts may write, by LDEV and by volume id, with its size and the flags marklog serves (flush, FUA, trim, zeroes, multi-connection)', async t => {
  const sites = loggingSites(t, {size: '4M', pairs: 2});
  const served = await serve(t, sites.primary);
  t.deepEqual(served.exports.map(e => e.ldev), sites.members.map(m => m.mvol));
  const info = JSON.parse(run('nbdinfo', ['--json', `${served.url}/${sites.members[1].mvol}`]));
  const exported = info.exports[0];
  t.is(exported['export-size'], 4 * 1024 * 1024);
  t.like(exported, {can_flush: true, can_fua: true, can_trim: true, can_zero: true, can_multi_conn: true, is_read_only: false});
  const byId = JSON.parse(run('nbdinfo', ['--json', `${served.url}/${served.exports[0].names[1]}`]));
  t.is(byId.exports[0]['export-size'], 4 * 1024 * 1024);
  const list = run('nbdinfo', ['--list', served.url]);
  for (const m of sites.members) t.regex(list, new RegExp(`export="${m.mvol}"`));
  t.true(spawnSync('nbdinfo', [`${served.url}/no-such-export`]).status !== 0, 'an unknown export is refused');
});

test('a write past the end of an export gets ENOSPC, its payload is consumed and the connection goes on; an unknown command gets EINVAL', async t => {
  const sites = loggingSites(t, {size: '1M'});
  const {mvol} = sites.members[0];
  const served = await serve(t, sites.primary);
  const client = await NbdClient.open(served.port, String(mvol));
  t.is((await client.write(1024 * 1024 - 100, Buffer.alloc(4096, 7))).error, 28);
  t.is((await client.write(0, Buffer.from('abcd'))).error, 0, 'the stream stayed in step');
  t.deepEqual((await client.read(0, 4)).data, Buffer.from('abcd'));
  t.is((await client.call(99, 0, 0)).error, 22);
  t.is(await client.disconnect(), 'eof');
  t.is(imageBytes(imagePath(sites.primary, mvol)).subarray(0, 4).toString(), 'abcd');
});

test('marklog serve refuses a non-loopback address without --insecure, and a malformed listen address, with one line and exit 2', t => {
  const sites = loggingSites(t, {size: '1M'});
  for (const listen of ['0.0.0.0:10809', 'nowhere', '127.0.0.1:99999']) {
    const result = cli(['serve', '--site', sites.primary, '--listen', listen]);
    t.is(result.code, 2, listen);
    t.regex(result.stderr, /^marklog: [^\n]+\n$/, listen);
  }
});

test('fio\'s nbd engine: 4 KiB random writes at queue depth 8 with flushes, read back and verified by fio (crc32c); in log mode the mark after them restores to the M-VOL', async t => {
  const sites = loggingSites(t, {size: '16M', logSize: '64M'});
  const {mvol, rvol} = sites.members[0];
  const served = await serve(t, sites.primary);
  const output = run('fio', ['--name=random-writes', '--ioengine=nbd', `--uri=${served.url}/${mvol}`, '--rw=randwrite', '--bs=4k', '--size=8M',
    '--iodepth=8', '--verify=crc32c', '--verify_state_save=0', '--fsync=64', '--output-format=json']);
  const job = JSON.parse(output.slice(output.indexOf('{'))).jobs[0];
  t.is(job.error, 0);
  t.is(job.write.io_bytes, 8 * 1024 * 1024);
  t.is(job.read.total_ios, 2048, 'fio read back and verified every block it wrote');
  const {markId} = cliJson(['mark', '--site', sites.primary, '--app', 'after-fio']);
  served.child.kill('SIGTERM');
  t.like(await served.done, {code: 0});
  const restored = path.join(sites.root, 'restored.img');
  cliJson(['restore', '--site', sites.remote, '--group', String(sites.group), '--mark', String(markId), '--rvol', String(rvol), '--to', restored]);
  t.is(digest(imageBytes(restored)), digest(imageBytes(imagePath(sites.primary, mvol))));
});

test('nbdcopy over several connections at once (CAN_MULTI_CONN) writes a 12 MiB image and reads it back; in log mode the mark after it restores at the remote to the same bytes', async t => {
  const sites = loggingSites(t, {size: '16M', logSize: '64M'});
  const {mvol, rvol} = sites.members[0];
  const served = await serve(t, sites.primary);
  const url = `${served.url}/${mvol}`;
  const image = path.join(sites.root, 'multi.img');
  const pattern = crypto.randomBytes(12 * 1024 * 1024);
  fs.writeFileSync(image, pattern);
  // -v: libnbd's debug output names each connection (dst0, dst1, …); it opens one per core, up to the four asked for.
  const copy = attempt('nbdcopy', ['-v', '--connections=4', '--requests=16', '--flush', image, url]);
  t.is(copy.status, 0, copy.output.slice(-2000));
  t.true(new Set(copy.output.match(/dst\d+: nbd_connect_uri: enter/g)).size >= 2, 'nbdcopy wrote over more than one connection');
  const back = path.join(sites.root, 'back.img');
  run('nbdcopy', ['--connections=4', url, back]);
  t.true(fs.readFileSync(back).subarray(0, pattern.length).equals(pattern), 'read back over four connections');
  const {markId} = cliJson(['mark', '--site', sites.primary, '--app', 'after-multi-conn']);
  served.child.kill('SIGTERM');
  t.like(await served.done, {code: 0});
  const mvolBytes = imageBytes(imagePath(sites.primary, mvol));
  t.true(mvolBytes.subarray(0, pattern.length).equals(pattern));
  const restored = path.join(sites.root, 'restored.img');
  cliJson(['restore', '--site', sites.remote, '--group', String(sites.group), '--mark', String(markId), '--rvol', String(rvol), '--to', restored]);
  t.is(digest(imageBytes(restored)), digest(mvolBytes), 'the journal of interleaved connections replays to the M-VOL');
});
