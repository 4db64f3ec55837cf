// Issue 14, item 1 (who may connect): `marklog serve --tls-cert --tls-key --tls-ca`
// speaks NBD's STARTTLS and accepts only clients whose certificate its CA signed.
// The real clients go through it (qemu-io and qemu-img with tls-creds-x509, nbdinfo
// and nbdcopy with nbds:// URIs); a client without a certificate, one another CA
// signed, and a plaintext one are refused and touch nothing; on the wire, every
// option before TLS gets ERR_TLS_REQD and no request is ever read from such a client.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {cliJson} from '../helpers/cli.js';
import {NbdClient, greet, optionReplies} from '../helpers/nbd-client.js';
import {openTls, startTls} from '../helpers/nbd-tls.js';
import {CMD, OPT, REP, TX_FLAG, Wire, clientFlags, infoData, option, request} from '../helpers/nbd-wire.js';
import {attempt, run, serve} from '../helpers/serve.js';
import {createVolume, imagePath, tempDir} from '../helpers/sites.js';
import {makeCertificates, qemuTls} from '../helpers/tls-certs.js';

const MIB = 1024 * 1024;

/** A primary with one 4 MiB volume, served with TLS required. */
async function tlsServed(t: ExecutionContext) {
  const root = tempDir(t);
  const site = path.join(root, 'primary');
  cliJson(['site', 'init', site, '--role', 'primary']);
  const ldev = createVolume(site, '4M');
  const certs = makeCertificates(t);
  const served = await serve(t, site, ['--tls-cert', certs.server.cert, '--tls-key', certs.server.key, '--tls-ca', certs.server.ca]);
  const image = () => fs.readFileSync(imagePath(site, ldev));
  const nbds = (dir: string) => `nbds://127.0.0.1:${served.port}/${ldev}?tls-certificates=${dir}`;
  const qemu = (dir: string) => qemuTls(dir, `host=127.0.0.1,port=${served.port},export=${ldev}`);
  return {root, site, ldev, certs, served, image, nbds, qemu};
}

test('qemu-io, qemu-img, nbdcopy and nbdinfo reach an export through STARTTLS with a certificate the CA signed, and what they write is on the M-VOL', async t => {
  const {root, certs, served, image, nbds, qemu} = await tlsServed(t);
  t.true(served.ready.tls);
  t.regex(served.url, /^nbds:\/\/127\.0\.0\.1:\d+$/);
  const valid = certs.clientDirs.valid;
  run('qemu-io', [...qemu(valid), '-c', 'write -P 0x5a 3M 64k', '-c', 'flush', '-c', 'read -P 0x5a 3M 64k']);
  const disk = path.join(root, 'disk.img');
  const pattern = crypto.randomBytes(MIB);
  fs.writeFileSync(disk, pattern);
  run('qemu-img', ['convert', '-n', '--object', `tls-creds-x509,id=tls0,endpoint=client,dir=${valid}`, '-f', 'raw', disk,
    '--target-image-opts', qemu(valid).at(-1)!]);
  const second = path.join(root, 'second.img');
  const front = crypto.randomBytes(256 * 1024);
  fs.writeFileSync(second, front);
  run('nbdcopy', ['--flush', second, nbds(valid)]);
  const info = JSON.parse(run('nbdinfo', ['--json', nbds(valid)]));
  t.true(info.TLS, 'nbdinfo negotiated TLS');
  t.like(info.exports[0], {'export-size': 4 * MIB, can_multi_conn: true, is_read_only: false});
  const back = path.join(root, 'back.img');
  run('nbdcopy', [nbds(valid), back]);
  const expected = Buffer.alloc(4 * MIB);
  pattern.copy(expected, 0);
  expected.fill(0x5a, 3 * MIB, 3 * MIB + 65536);
  front.copy(expected, 0);
  t.true(fs.readFileSync(back).equals(expected), 'nbdcopy read back through TLS what the three wrote');
  served.child.kill('SIGTERM');
  t.like(await served.done, {code: 0});
  t.true(image().equals(expected), 'the M-VOL holds it');
});

test('a client without a certificate, one with a certificate another CA signed, and a plaintext one are refused, and none of them writes a byte', async t => {
  const {root, certs, served, image, nbds, qemu} = await tlsServed(t);
  const before = image();
  const write = ['-c', 'write -P 0xee 0 64k'];
  const garbage = path.join(root, 'garbage.img');
  fs.writeFileSync(garbage, Buffer.alloc(65536, 0xee));
  for (const [who, dir] of [['no certificate', certs.clientDirs.noCertificate], ['another CA', certs.clientDirs.foreign]]) {
    t.not(attempt('qemu-io', [...qemu(dir), ...write]).status, 0, `qemu-io, ${who}`);
    t.not(attempt('qemu-img', ['convert', '-n', '--object', `tls-creds-x509,id=tls0,endpoint=client,dir=${dir}`, '-f', 'raw', garbage,
      '--target-image-opts', qemu(dir).at(-1)!]).status, 0, `qemu-img, ${who}`);
    t.not(attempt('nbdinfo', [nbds(dir)]).status, 0, `nbdinfo, ${who}`);
    t.not(attempt('nbdcopy', ['--flush', garbage, nbds(dir)]).status, 0, `nbdcopy, ${who}`);
  }
  const plain = attempt('qemu-io', ['-f', 'raw', ...write, `nbd://127.0.0.1:${served.port}/0`]);
  t.not(plain.status, 0);
  t.regex(plain.output, /TLS negotiation required/, 'qemu reports the server\'s ERR_TLS_REQD');
  t.not(attempt('nbdinfo', [`nbd://127.0.0.1:${served.port}/0`]).status, 0, 'nbdinfo in plain text');
  // The same refusals seen from the wire: the handshake may complete on the client's side (TLS 1.3), then the connection ends unanswered.
  for (const [who, files] of [['no certificate', {ca: certs.client.ca}], ['another CA', {...certs.foreign, ca: certs.client.ca}]] as const) {
    const plainWire = await Wire.connect(served.port);
    await greet(plainWire);
    plainWire.send(clientFlags(3));
    const wire = await startTls(plainWire, files);
    wire.send(option(OPT.list));
    t.is(await wire.ending(), 'eof', `${who}: LIST gets no answer, the connection ends`);
  }
  t.true(image().equals(before), 'nothing was written');
  run('qemu-io', [...qemu(certs.clientDirs.valid), '-c', 'read -P 0 0 64k']);
  served.child.kill('SIGTERM');
  t.like(await served.done, {code: 0}, 'the server served on and exits 0');
});

test('before TLS every option but STARTTLS gets ERR_TLS_REQD, EXPORT_NAME ends the connection, and a request sent anyway is never read as one', async t => {
  const {ldev, served, image} = await tlsServed(t);
  const before = image();
  const wire = await Wire.connect(served.port);
  await greet(wire);
  wire.send(clientFlags(3));
  const options: [string, number, Buffer][] = [
    ['LIST', OPT.list, Buffer.alloc(0)], ['INFO', OPT.info, infoData(String(ldev))], ['GO', OPT.go, infoData(String(ldev))],
    ['STRUCTURED_REPLY', OPT.structuredReply, Buffer.alloc(0)], ['an unknown option', 0x4242, Buffer.from('x')], ['ABORT', OPT.abort, Buffer.alloc(0)],
  ];
  for (const [what, number, data] of options) {
    wire.send(option(number, data));
    t.deepEqual((await optionReplies(wire, number)).map(r => r.type), [REP.errTlsReqd], what);
  }
  // GO was refused, so this is not a request to the server: it is an option with a wrong magic, and the connection ends.
  wire.send(request(CMD.write, {cookie: 1n, offset: 0, payload: Buffer.alloc(4096, 0xee)}));
  t.is(await wire.ending(), 'eof');
  const named = await Wire.connect(served.port);
  await greet(named);
  named.send(Buffer.concat([clientFlags(3), option(OPT.exportName, Buffer.from(String(ldev)))]));
  t.is(await named.ending(), 'eof', 'EXPORT_NAME has no error reply: the server hangs up');
  t.true(image().equals(before));
  served.child.kill('SIGTERM');
  t.like(await served.done, {code: 0});
});

test('STARTTLS with data, or a second time, gets ERR_INVALID; bytes sent in the clear behind STARTTLS end the connection; over TLS a client reads and writes', async t => {
  const {ldev, certs, served, image} = await tlsServed(t);
  const files = certs.client;
  const plain = await Wire.connect(served.port);
  await greet(plain);
  plain.send(clientFlags(3));
  plain.send(option(OPT.startTls, Buffer.from('x')));
  t.deepEqual((await optionReplies(plain, OPT.startTls)).map(r => r.type), [REP.errInvalid], 'STARTTLS takes no data');
  const wire = await startTls(plain, files);
  wire.send(option(OPT.startTls));
  t.deepEqual((await optionReplies(wire, OPT.startTls)).map(r => r.type), [REP.errInvalid], 'TLS is already on');
  wire.send(option(OPT.list));
  t.deepEqual((await optionReplies(wire, OPT.list)).map(r => r.type), [REP.server, REP.ack], 'LIST works over TLS');
  wire.send(option(OPT.go, infoData(String(ldev), [0])));
  const go = await optionReplies(wire, OPT.go);
  t.is(go.at(-1)!.type, REP.ack);
  const exportInfo = go.find(r => r.type === REP.info && r.data.readUInt16BE(0) === 0)!;
  t.is(exportInfo.data.readUInt16BE(10) & (TX_FLAG.canMultiConn | TX_FLAG.readOnly), TX_FLAG.canMultiConn, 'writable, and multi-connection is offered');
  const client = NbdClient.afterGo(wire, String(ldev), go);
  t.is((await client.write(MIB, Buffer.from('over tls'))).error, 0);
  t.is((await client.call(CMD.flush, 0, 0)).error, 0);
  t.deepEqual((await client.read(MIB, 8)).data, Buffer.from('over tls'));
  t.is(await client.disconnect(), 'eof');
  // An attacker on the path could append plaintext to a client's STARTTLS; the server must not take it for what comes after.
  const injected = await Wire.connect(served.port);
  await greet(injected);
  injected.send(Buffer.concat([clientFlags(3), option(OPT.startTls), option(OPT.go, infoData(String(ldev)))]));
  t.is(await injected.ending(), 'eof', 'no ACK: the connection ends');
  const again = await openTls(served.port, String(ldev), files);
  t.deepEqual((await again.read(MIB, 8)).data, Buffer.from('over tls'));
  await again.disconnect();
  served.child.kill('SIGTERM');
  t.like(await served.done, {code: 0});
  t.is(image().subarray(MIB, MIB + 8).toString(), 'over tls');
});

test('a client that connects and never finishes the TLS handshake does not keep SIGTERM from exiting 0', async t => {
  const {served} = await tlsServed(t);
  const wire = await Wire.connect(served.port);
  await greet(wire);
  wire.send(Buffer.concat([clientFlags(3), option(OPT.startTls)]));
  t.deepEqual((await optionReplies(wire, OPT.startTls)).map(r => r.type), [REP.ack]);
  // It sends no ClientHello: the server waits in the handshake.
  served.child.kill('SIGTERM');
  t.like(await served.done, {code: 0});
  t.is(await wire.ending(), 'eof');
});

test('with TLS the Unix socket requires it too: qemu-io (with tls-hostname) and nbdinfo (nbds+unix://) go through it, plain nbd+unix:// and qemu are refused', async t => {
  const root = tempDir(t);
  const site = path.join(root, 'primary');
  cliJson(['site', 'init', site, '--role', 'primary']);
  const ldev = createVolume(site, '1M');
  const certs = makeCertificates(t);
  const socket = path.join(root, 'nbd.sock');
  const served = await serve(t, site, ['--socket', socket, '--tls-cert', certs.server.cert, '--tls-key', certs.server.key, '--tls-ca', certs.server.ca], {listen: null});
  t.is(served.ready.socket!.url, `nbds+unix:///?socket=${socket}`);
  const valid = certs.clientDirs.valid;
  run('qemu-io', [...qemuTls(valid, `server.type=unix,server.path=${socket},export=${ldev},tls-hostname=localhost`), '-c', 'write -P 0x61 0 4k', '-c', 'read -P 0x61 0 4k']);
  t.true(JSON.parse(run('nbdinfo', ['--json', `nbds+unix:///${ldev}?socket=${socket}&tls-certificates=${valid}`])).TLS);
  t.not(attempt('nbdinfo', [`nbd+unix:///${ldev}?socket=${socket}`]).status, 0, 'libnbd in plain text');
  const plain = attempt('qemu-io', ['-f', 'raw', '-c', 'write -P 0xee 0 4k', `nbd:unix:${socket}:exportname=${ldev}`]);
  t.regex(plain.output, /TLS negotiation required/);
  served.child.kill('SIGTERM');
  t.like(await served.done, {code: 0});
  t.true(fs.readFileSync(imagePath(site, ldev)).subarray(0, 4096).every(b => b === 0x61));
});

test('clients doing STARTTLS at the same moment, refused ones among them, each end up on their own connection', async t => {
  const {ldev, certs, served, image} = await tlsServed(t);
  const valid = Array.from({length: 6}, async (_, k) => {
    const client = await openTls(served.port, String(ldev), certs.client);
    const mine = Buffer.alloc(4096, 0x30 + k);
    t.is((await client.write(k * 65536, mine)).error, 0);
    t.deepEqual((await client.read(k * 65536, 4096)).data, mine, `client ${k} reads its own write`);
    return client;
  });
  const refused = Array.from({length: 3}, async () => {
    const plain = await Wire.connect(served.port);
    await greet(plain);
    plain.send(clientFlags(3));
    const wire = await startTls(plain, {ca: certs.client.ca});
    wire.send(option(OPT.list));
    return wire.ending();
  });
  const clients = await Promise.all(valid);
  t.deepEqual(await Promise.all(refused), ['eof', 'eof', 'eof']);
  for (const client of clients) await client.disconnect();
  served.child.kill('SIGTERM');
  t.like(await served.done, {code: 0});
  const bytes = image();
  for (let k = 0; k < 6; k++) t.true(bytes.subarray(k * 65536, k * 65536 + 4096).every(b => b === 0x30 + k));
});
