// Issue 14, item 1: `marklog serve --socket PATH` (a Unix socket instead of or beside
// TCP, as qemu's nbd:unix: and libnbd's nbd+unix:// reach it) and `--read-only`
// (exports flagged READ_ONLY: a read works, every kind of write gets EPERM).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {cliJson} from '../helpers/cli.js';
import {NbdClient} from '../helpers/nbd-client.js';
import {CMD, CMD_FLAG, ERRNO} from '../helpers/nbd-wire.js';
import {attempt, run, serve} from '../helpers/serve.js';
import {createVolume, imagePath, tempDir} from '../helpers/sites.js';

const MIB = 1024 * 1024;

/** A primary with one 4 MiB volume whose first MiB holds known bytes. */
function primary(t: ExecutionContext) {
  const root = tempDir(t);
  const site = path.join(root, 'primary');
  cliJson(['site', 'init', site, '--role', 'primary']);
  const ldev = createVolume(site, '4M');
  const known = crypto.randomBytes(MIB);
  cliJson(['write', '--site', site, '--vol', String(ldev), '--offset', '0'], {input: known});
  return {root, site, ldev, known, socket: path.join(root, 'nbd.sock'), image: () => fs.readFileSync(imagePath(site, ldev))};
}

test('--socket alone: only the Unix socket listens, only its owner may connect; qemu-io (nbd:unix:) and nbdinfo and nbdcopy (nbd+unix://) write and read through it; SIGTERM removes it', async t => {
  const {root, ldev, known, socket, site, image} = primary(t);
  const served = await serve(t, site, ['--socket', socket], {listen: null});
  t.is(served.ready.listening, undefined, 'no TCP address');
  t.deepEqual(served.ready.socket, {path: socket, url: `nbd+unix:///?socket=${socket}`});
  const stat = fs.statSync(socket);
  t.true(stat.isSocket());
  t.is(stat.mode & 0o777, 0o600, 'read and write for its owner only');
  // Another user reaches the directory but may not connect: connecting takes write permission on the socket.
  fs.chmodSync(root, 0o755);
  const stranger = attempt('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'nbdinfo', `nbd+unix:///${ldev}?socket=${socket}`]);
  t.not(stranger.status, 0);
  t.regex(stranger.output, /Permission denied/);
  run('qemu-io', ['-f', 'raw', '-c', 'write -P 0x42 2M 64k', '-c', 'flush', '-c', 'read -P 0x42 2M 64k', `nbd:unix:${socket}:exportname=${ldev}`]);
  const uri = `nbd+unix:///${ldev}?socket=${socket}`;
  t.is(JSON.parse(run('nbdinfo', ['--json', uri])).exports[0]['export-size'], 4 * MIB);
  const tail = path.join(root, 'tail.img');
  run('nbdcopy', [uri, tail]);
  t.true(fs.readFileSync(tail).subarray(0, MIB).equals(known), 'nbdcopy read what was there');
  const front = crypto.randomBytes(128 * 1024);
  fs.writeFileSync(path.join(root, 'front.img'), front);
  run('nbdcopy', ['--flush', path.join(root, 'front.img'), uri]);
  served.child.kill('SIGTERM');
  t.like(await served.done, {code: 0});
  t.false(fs.existsSync(socket), 'the socket is removed at exit');
  const bytes = image();
  t.true(bytes.subarray(0, front.length).equals(front));
  t.true(bytes.subarray(front.length, MIB).equals(known.subarray(front.length)));
  t.true(bytes.subarray(2 * MIB, 2 * MIB + 65536).every(b => b === 0x42));
});

test('--socket beside --listen serves the same exports on both; the socket a killed server left is taken over by the next one', async t => {
  const {ldev, socket, site, image} = primary(t);
  const killed = await serve(t, site, ['--socket', socket]);
  killed.child.kill('SIGKILL');
  await killed.done;
  t.true(fs.existsSync(socket), 'SIGKILL leaves the socket file behind');
  const served = await serve(t, site, ['--socket', socket]);
  t.truthy(served.ready.listening);
  const overTcp = await NbdClient.open(served.port, String(ldev));
  t.is((await overTcp.write(3 * MIB, Buffer.from('by tcp'))).error, 0);
  const overSocket = await NbdClient.open(socket, String(ldev));
  t.deepEqual((await overSocket.read(3 * MIB, 6)).data, Buffer.from('by tcp'), 'the socket sees what TCP wrote');
  t.is((await overSocket.write(3 * MIB + 6, Buffer.from(' and socket'))).error, 0, 'both are this machine: one host, both may write');
  await overTcp.disconnect();
  await overSocket.disconnect();
  served.child.kill('SIGTERM');
  t.like(await served.done, {code: 0});
  t.is(image().subarray(3 * MIB, 3 * MIB + 17).toString(), 'by tcp and socket');
});

test('--read-only: the export is READ_ONLY without trim or zeroes; qemu-io reads it and its write fails; WRITE, TRIM and WRITE_ZEROES get EPERM on the wire and nothing changes', async t => {
  const {ldev, known, site, image} = primary(t);
  const before = image();
  const served = await serve(t, site, ['--read-only']);
  t.true(served.ready.readOnly);
  const url = `${served.url}/${ldev}`;
  t.like(JSON.parse(run('nbdinfo', ['--json', url])).exports[0], {is_read_only: true, can_trim: false, can_zero: false, can_flush: true});
  const pattern = known[4096];
  run('qemu-io', ['-r', '-f', 'raw', '-c', `read -P ${pattern} 4096 1`, url]);
  const write = attempt('qemu-io', ['-f', 'raw', '-c', 'write -P 0xee 0 64k', url]);
  t.not(write.status, 0, 'qemu-io cannot write');
  t.regex(write.output, /Permission denied|read-only/i);
  const client = await NbdClient.open(served.port, String(ldev));
  t.is((await client.write(0, Buffer.alloc(4096, 0xee))).error, ERRNO.perm, 'WRITE (its payload is still read)');
  t.is((await client.write(0, Buffer.alloc(16, 0xee), CMD_FLAG.fua)).error, ERRNO.perm, 'WRITE with FUA');
  t.is((await client.call(CMD.trim, 0, 65536)).error, ERRNO.perm, 'TRIM');
  t.is((await client.call(CMD.writeZeroes, 0, 65536)).error, ERRNO.perm, 'WRITE_ZEROES');
  t.is((await client.call(CMD.flush, 0, 0)).error, 0, 'FLUSH has nothing to do and succeeds');
  t.deepEqual((await client.read(0, 4096)).data, known.subarray(0, 4096), 'the stream stayed in step and reads work');
  const second = await NbdClient.open(served.port, String(ldev));
  t.deepEqual((await second.read(MIB - 16, 16)).data, known.subarray(MIB - 16), 'a read-only export has no writer to wait for');
  await client.disconnect();
  await second.disconnect();
  served.child.kill('SIGTERM');
  t.like(await served.done, {code: 0});
  t.true(image().equals(before), 'the image is unchanged');
});
