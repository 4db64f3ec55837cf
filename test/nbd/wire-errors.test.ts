// Issue 14, item 8: bad input on the wire, one behaviour per test, against a real
// `marklog serve`. Refused requests get the error the NBD protocol asks for and
// leave the stream in step; a client that leaves mid-request loses nothing it had
// acknowledged; a malformed handshake ends that connection only; SIGTERM exits 0
// whatever the clients left behind.
import fs from 'node:fs';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {cliJson} from '../helpers/cli.js';
import {NbdClient, greet, optionReplies} from '../helpers/nbd-client.js';
import {serve, stopServe} from '../helpers/serve.js';
import {CMD, CMD_FLAG, ERRNO, MAGIC, OPT, REP, Wire, clientFlags, infoData, option, request} from '../helpers/nbd-wire.js';
import {createVolume, imagePath, tempDir} from '../helpers/sites.js';

const MIB = 1024 * 1024;

/** A primary site with two 1 MiB volumes of known contents, served. */
async function served(t: ExecutionContext) {
  const site = path.join(tempDir(t), 'primary');
  cliJson(['site', 'init', site, '--role', 'primary']);
  const ldevs = [createVolume(site, '1M'), createVolume(site, '1M')];
  const image = (ldev: number) => fs.readFileSync(imagePath(site, ldev));
  const server = await serve(t, site);
  return {site, ldevs, image, server, port: server.port};
}

test('a write past the end of an export gets ENOSPC, its payload is read, the next request on the connection works, and nothing lands outside the export', async t => {
  const {ldevs, image, server, port} = await served(t);
  const client = await NbdClient.open(port, String(ldevs[0]));
  t.is((await client.write(MIB - 100, Buffer.alloc(4096, 0xee))).error, ERRNO.nospc, 'it straddles the end');
  t.is((await client.write(MIB, Buffer.alloc(1, 0xee))).error, ERRNO.nospc, 'it starts at the end');
  // 2^64 - 2048 + 4096 wraps around in 64 bits: still past the end.
  t.is((await client.write((1n << 64n) - 2048n, Buffer.alloc(4096, 0xee))).error, ERRNO.nospc, 'its end overflows 2^64');
  t.is((await client.call(CMD.writeZeroes, MIB - 1, 2)).error, ERRNO.nospc, 'zeroes past the end');
  t.is((await client.write(0, Buffer.from('in step'))).error, 0, 'the stream stayed in step after the refused payloads');
  t.deepEqual((await client.read(0, 7)).data, Buffer.from('in step'));
  t.is(await client.disconnect(), 'eof');
  t.like(await stopServe(server), {code: 0});
  const bytes = image(ldevs[0]);
  t.is(bytes.length, MIB, 'the image did not grow');
  t.is(bytes.subarray(0, 7).toString(), 'in step');
  t.false(bytes.includes(0xee), 'no refused byte was written anywhere');
});

test('a read, a trim or a cache past the end gets EINVAL, and so does a read longer than the 32 MiB a reply may carry', async t => {
  const {ldevs, image, server, port} = await served(t);
  const before = image(ldevs[0]);
  const client = await NbdClient.open(port, String(ldevs[0]));
  t.is((await client.read(MIB - 1, 2)).error, ERRNO.inval);
  t.is((await client.call(CMD.trim, MIB - 4096, 8192)).error, ERRNO.inval, 'TRIM is a read-like range check in the protocol');
  t.is((await client.call(CMD.cache, MIB, 4096)).error, ERRNO.inval);
  t.is((await client.call(CMD.read, 0, 32 * MIB + 1)).error, ERRNO.inval, 'EOVERFLOW is only for structured reads with DF');
  t.is((await client.read(MIB - 4, 4)).error, 0, 'the stream stayed in step');
  await client.disconnect();
  t.like(await stopServe(server), {code: 0});
  t.true(image(ldevs[0]).equals(before), 'the refused trim zeroed nothing');
});

test('an unknown option gets ERR_UNSUP and the handshake goes on to LIST and GO', async t => {
  const {ldevs, server, port} = await served(t);
  const wire = await Wire.connect(port);
  await greet(wire);
  wire.send(clientFlags(3));
  for (const [number, data] of [[0, 0], [4, 3], [OPT.startTls, 0], [OPT.structuredReply, 0], [OPT.setMetaContext, 40], [12, 1], [0x7fffffff, 17], [0xffffffff, 4096]] as const) {
    wire.send(option(number, Buffer.alloc(data, 0x41)));
    const replies = await optionReplies(wire, number);
    t.deepEqual(replies.map(r => r.type), [REP.errUnsup], `option ${number}`);
  }
  wire.send(option(OPT.list));
  const listed = await optionReplies(wire, OPT.list);
  t.deepEqual(listed.map(r => r.type), [REP.server, REP.server, REP.ack]);
  wire.send(option(OPT.go, infoData(String(ldevs[1]))));
  const go = await optionReplies(wire, OPT.go);
  t.is(go.at(-1)!.type, REP.ack);
  const client = NbdClient.afterGo(wire, String(ldevs[1]), go);
  t.is((await client.read(0, 512)).error, 0, 'the connection reached transmission');
  await client.disconnect();
  t.like(await stopServe(server), {code: 0});
});

test('a malformed LIST, INFO or GO gets ERR_INVALID, an unknown export ERR_UNKNOWN, and the handshake goes on', async t => {
  const {ldevs, server, port} = await served(t);
  const wire = await Wire.connect(port);
  await greet(wire);
  wire.send(clientFlags(3));
  const name = Buffer.from(String(ldevs[0]));
  const claimsTooLong = infoData(name);
  claimsTooLong.writeUInt32BE(name.length + 1, 0);
  const countTooHigh = infoData(name, [0]);
  countTooHigh.writeUInt16BE(2, 4 + name.length);
  const trailing = Buffer.concat([infoData(name), Buffer.from([0])]);
  const cases: [string, number, Buffer, number][] = [
    ['LIST with data', OPT.list, Buffer.from('x'), REP.errInvalid],
    ['INFO shorter than its name length', OPT.info, Buffer.alloc(3), REP.errInvalid],
    ['INFO whose name runs past its data', OPT.info, claimsTooLong, REP.errInvalid],
    ['GO claiming more information requests than it carries', OPT.go, countTooHigh, REP.errInvalid],
    ['GO with a stray byte after its requests', OPT.go, trailing, REP.errInvalid],
    ['INFO for an export that does not exist', OPT.info, infoData('no-such-export'), REP.errUnknown],
    ['GO for an export that does not exist', OPT.go, infoData('no-such-export'), REP.errUnknown],
  ];
  for (const [what, number, data, expected] of cases) {
    wire.send(option(number, data));
    t.deepEqual((await optionReplies(wire, number)).map(r => r.type), [expected], what);
  }
  wire.send(option(OPT.go, infoData(name, [1, 2, 3, 0x1234])));
  const replies = await optionReplies(wire, OPT.go);
  t.is(replies.at(-1)!.type, REP.ack, 'a well-formed GO still works, unknown information requests ignored');
  await NbdClient.afterGo(wire, name.toString(), replies).disconnect();
  t.like(await stopServe(server), {code: 0});
});

test('an unknown command gets EINVAL and the stream stays in step', async t => {
  const {ldevs, server, port} = await served(t);
  const client = await NbdClient.open(port, String(ldevs[0]));
  for (const type of [CMD.blockStatus, 8, 9, 0x100, 0xffff]) {
    // The offset and length fields are nonsense too; an unknown command carries no payload.
    t.is((await client.call(type, 12345, 4096)).error, ERRNO.inval, `command ${type}`);
  }
  t.is((await client.write(4096, Buffer.from('after'))).error, 0);
  t.deepEqual((await client.read(4096, 5)).data, Buffer.from('after'));
  await client.disconnect();
  t.like(await stopServe(server), {code: 0});
});

test('a flag the command does not take gets EINVAL and the request does nothing; FUA and NO_HOLE where they belong still work', async t => {
  const {ldevs, image, server, port} = await served(t);
  const client = await NbdClient.open(port, String(ldevs[0]));
  const refused: [string, number, number][] = [
    ['WRITE with DF', CMD.write, CMD_FLAG.df],
    ['WRITE with NO_HOLE', CMD.write, CMD_FLAG.noHole],
    ['WRITE with an unknown flag', CMD.write, 0x8000],
    ['WRITE_ZEROES with FAST_ZERO, never offered', CMD.writeZeroes, CMD_FLAG.fastZero],
    ['TRIM with REQ_ONE', CMD.trim, CMD_FLAG.reqOne],
  ];
  for (const [what, type, flags] of refused) {
    const payload = type === CMD.write ? Buffer.alloc(4096, 0xee) : undefined;
    t.is((await client.call(type, 8192, 4096, {flags, payload})).error, ERRNO.inval, what);
  }
  t.is((await client.call(CMD.read, 0, 16, {flags: CMD_FLAG.df})).error, ERRNO.inval, 'READ with DF (no structured replies here)');
  t.is((await client.call(CMD.cache, 0, 4096, {flags: 0x40})).error, ERRNO.inval, 'CACHE with an unknown flag');
  t.is((await client.write(0, Buffer.alloc(16, 0x5a), CMD_FLAG.fua)).error, 0, 'WRITE with FUA');
  t.is((await client.call(CMD.writeZeroes, 4, 4, {flags: CMD_FLAG.noHole | CMD_FLAG.fua})).error, 0, 'WRITE_ZEROES with NO_HOLE and FUA');
  await client.disconnect();
  t.like(await stopServe(server), {code: 0});
  const bytes = image(ldevs[0]);
  t.false(bytes.includes(0xee), 'no refused write landed');
  t.deepEqual(bytes.subarray(0, 16), Buffer.from([0x5a, 0x5a, 0x5a, 0x5a, 0, 0, 0, 0, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a]));
});

test('a client that disconnects in the middle of a WRITE payload loses nothing it had acknowledged, and the server goes on serving', async t => {
  const {ldevs, image, server, port} = await served(t);
  const acknowledged = Buffer.alloc(8192, 0x11);
  const leaver = await NbdClient.open(port, String(ldevs[0]));
  t.is((await leaver.write(65536, acknowledged)).error, 0);
  t.is((await leaver.call(CMD.flush, 0, 0)).error, 0);
  // The same range again, but only half of the payload before the connection drops.
  leaver.wire.send(request(CMD.write, {cookie: 99n, offset: 65536, length: 8192, payload: Buffer.alloc(4096, 0x22)}).subarray(0, 28 + 4096));
  await new Promise(resolve => setTimeout(resolve, 50));
  leaver.wire.destroy();
  const other = await NbdClient.open(port, String(ldevs[0]));
  t.deepEqual((await other.read(65536, 8192)).data, acknowledged, 'the torn write was not applied');
  t.is((await other.write(0, Buffer.from('still serving'))).error, 0);
  await other.disconnect();
  t.like(await stopServe(server), {code: 0});
  t.deepEqual(image(ldevs[0]).subarray(65536, 65536 + 8192), acknowledged);
});

test('a malformed handshake closes that connection only: bad client flags, a bad option magic, an unknown EXPORT_NAME, an option over 64 KiB, a bad request magic', async t => {
  const {ldevs, server, port} = await served(t);
  const steady = await NbdClient.open(port, String(ldevs[1]));
  t.is((await steady.write(0, Buffer.from('before'))).error, 0);
  const badOptionMagic = option(OPT.list);
  badOptionMagic[3] ^= 0x10;
  const huge = option(0x4242);
  huge.writeUInt32BE(64 * 1024 + 1, 12);
  const attempts: [string, Buffer][] = [
    ['client flags with an unknown bit', clientFlags(0x80000003)],
    ['an option with a bad magic', Buffer.concat([clientFlags(3), badOptionMagic])],
    ['EXPORT_NAME of an unknown export', Buffer.concat([clientFlags(3), option(OPT.exportName, Buffer.from('nope'))])],
    ['an option longer than 64 KiB', Buffer.concat([clientFlags(3), huge])],
  ];
  for (const [what, bytes] of attempts) {
    const wire = await Wire.connect(port);
    await greet(wire);
    wire.send(bytes);
    t.is(await wire.ending(), 'eof', what);
    wire.destroy();
  }
  const badRequest = await NbdClient.open(port, String(ldevs[0]));
  const header = request(CMD.read, {length: 512});
  header.writeUInt32BE(MAGIC.request ^ 1, 0);
  badRequest.wire.send(header);
  t.is(await badRequest.wire.ending(), 'eof', 'a request with a bad magic');
  t.is((await steady.write(6, Buffer.from(' after'))).error, 0, 'the other connection never noticed');
  t.deepEqual((await steady.read(0, 12)).data, Buffer.from('before after'));
  await steady.disconnect();
  t.like(await stopServe(server), {code: 0});
});

test('a client that leaves with replies still owed does not keep SIGTERM from flushing and exiting 0', async t => {
  const {ldevs, server, port} = await served(t);
  for (let i = 0; i < 3; i++) {
    const client = await NbdClient.open(port, String(ldevs[0]));
    const reads = Array.from({length: 64}, (_, k) => request(CMD.read, {cookie: BigInt(k), offset: 0, length: 65536}));
    client.wire.send(Buffer.concat(reads));
    client.wire.destroy();
  }
  const after = await NbdClient.open(port, String(ldevs[0]));
  t.is((await after.write(0, Buffer.from('later'))).error, 0, 'the server still serves');
  await after.disconnect();
  t.like(await stopServe(server), {code: 0});
});

test('SIGTERM ends connections that sit idle, in the handshake or between requests, and exits 0', async t => {
  const {ldevs, image, server, port} = await served(t);
  const handshaking = await Wire.connect(port);
  await greet(handshaking);
  handshaking.send(clientFlags(3));
  const between = await NbdClient.open(port, String(ldevs[0]));
  t.is((await between.write(0, Buffer.from('idle now'))).error, 0);
  t.like(await stopServe(server), {code: 0});
  t.is(await handshaking.ending(), 'eof');
  t.is(await between.wire.ending(), 'eof');
  t.is(image(ldevs[0]).subarray(0, 8).toString(), 'idle now');
});
