// marklog agent as a child process on pipes, driven by a small client on the codec
// (test/helpers/wire-client.ts). Each flow is also done through LocalDirectoryLink
// on a twin of the remote's directory (a copy: same site id, same volumes), and the
// two directories must end alike: the same R-VOL bytes, the same tables, the same
// log records. That is what "the local transport and the agent share one
// implementation" promises.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {encodeFrame} from '../../src/format/wire-frame.js';
import {NEW_SESSION} from '../../src/format/wire-bodies.js';
import {LocalDirectoryLink} from '../../src/transport/local-link.js';
import {Site} from '../../src/site/site.js';
import {Journal} from '../../src/log/journal.js';
import {initSite} from '../../src/site/site-admin.js';
import {createVolume} from '../../src/volume/volume-admin.js';
import {VolumeNotFoundError, MarkIdReusedError} from '../../src/errors.js';
import {entriesToWire} from '../../src/endpoint/methods.js';
import type {NewEntry} from '../../src/log/journal.js';
import {randomBytes, snapshot, tempDir} from '../helpers/sites.js';
import {WireClient} from '../helpers/wire-client.js';

const MiB = 1024 * 1024;
const PRIMARY = 'e6c8da65d963855a';
const claim = (pair: number, mvol: number) => ({pair, primarySite: PRIMARY, mvol});

/** A remote site with two R-VOL candidates and a pool volume, and its twin (a copy of the directory). */
function twinRemotes(t: Parameters<typeof tempDir>[0]): {wire: string; local: string} {
  const root = tempDir(t);
  const wire = path.join(root, 'osaka');
  initSite({dir: wire, role: 'remote'});
  const site = Site.open(wire);
  createVolume(site, 4 * MiB);
  createVolume(site, 4 * MiB);
  createVolume(site, 8 * MiB, true);
  site.close();
  const local = path.join(root, 'twin', 'osaka');
  fs.cpSync(wire, local, {recursive: true});
  return {wire, local};
}

function agent(t: Parameters<typeof tempDir>[0], dir: string): WireClient {
  const client = new WireClient(dir);
  t.teardown(() => {
    if (client.child.exitCode === null) client.child.kill('SIGKILL');
  });
  return client;
}

/** The tables without what differs by clock: creation and link times. */
function tablesOf(dir: string): unknown {
  const tables = JSON.parse(fs.readFileSync(path.join(dir, 'tables.json'), 'utf8'));
  return JSON.parse(JSON.stringify(tables, (key, value) => (key === 'created' || key === 'linked' ? '' : value)));
}

/** The log records of a group without their timer values (the remote's clock at each append). */
function recordsOf(dir: string, group: number): unknown[] {
  const site = Site.open(dir);
  try {
    const tables = site.tables();
    const journal = Journal.open(site, tables, tables.groups.find(g => g.group === group)!);
    return [...journal.records()].map(r => ({...r.record, timer: 0, data: 'data' in r.record ? Buffer.from(r.record.data as Uint8Array).toString('hex') : undefined, logLdev: r.logLdev, address: r.address}));
  } finally {
    site.close();
  }
}

function imagesOf(dir: string): Record<string, string> {
  return Object.fromEntries(Object.entries(snapshot(dir)).filter(([name]) => name.startsWith('volumes/ldev-0000') || name.startsWith('volumes/ldev-0001')));
}

test('the handshake: HELLO is answered by a WELCOME naming the site, a new session and protocol 1', async t => {
  const {wire} = twinRemotes(t);
  const client = agent(t, wire);
  const welcome = await client.hello();
  const site = JSON.parse(fs.readFileSync(path.join(wire, 'tables.json'), 'utf8')).site;
  t.deepEqual(welcome.site, {id: site.id, name: site.name, role: 'remote'});
  t.is(welcome.protocol, 1);
  t.regex(welcome.session, /^[0-9a-f]{16}$/);
  t.not(welcome.session, NEW_SESSION);
  client.bye();
  const exit = await client.exited;
  t.is(exit.code, 0, exit.stderr);
  t.is(exit.stderr, '');
});

test('Figs. 14, 17, 19: reserve, replicated write, read, flush, log start, writes and marks, mark list: the agent changes the remote as the local link does', async t => {
  const {wire, local} = twinRemotes(t);
  const client = agent(t, wire);
  await client.hello();
  const link = await LocalDirectoryLink.probe(local);
  t.teardown(() => link.close());
  const data = randomBytes(64 * 1024);

  // describeVolume and reserveRvol
  t.deepEqual((await client.call('describeVolume', {ldev: 0})).result, await link.describeVolume(0));
  t.deepEqual((await client.call('describeVolume', {ldev: 9})).result, null);
  t.deepEqual((await client.call('reserveRvol', {ldev: 0, claim: claim(1, 5), minCapacity: 4 * MiB})).result, await link.reserveRvol(0, claim(1, 5), 4 * MiB));
  t.deepEqual((await client.call('reserveRvol', {ldev: 1, claim: claim(2, 6), minCapacity: MiB})).result, await link.reserveRvol(1, claim(2, 6), MiB));

  // writeRvol with its bytes in the binary part, writeRvolFrom as bytes of the source range, readRvol, flushRvol
  await client.call('writeRvol', {ldev: 0, offset: 4096}, data);
  await link.writeRvol(0, 4096, data);
  const copied = randomBytes(128 * 1024);
  await client.call('writeRvolFrom', {ldev: 1, offset: MiB, length: copied.length}, copied);
  await link.writeRvol(1, MiB, copied);
  const read = await client.call('readRvol', {ldev: 0, offset: 4096, length: data.length});
  t.deepEqual(read.data, data);
  t.deepEqual(read.data, await link.readRvol(0, 4096, data.length));
  t.is((await client.call('flushRvol', {ldev: 0})).result, undefined);
  await link.flushRvol(0);

  // Fig. 17: prepareLogGroup, then Fig. 19: write and mark entries in one appendToLog
  const request = {primarySite: PRIMARY, members: [{rvol: 0, mvol: 5, pair: 1}, {rvol: 1, mvol: 6, pair: 2}]};
  t.deepEqual((await client.call('prepareLogGroup', {request})).result, await link.prepareLogGroup(request));
  const entries: NewEntry[] = [
    {kind: 'write', ldev: 0, address: 0, data: randomBytes(4096)},
    {kind: 'write', ldev: 1, address: 65536, data: randomBytes(8192)},
    {kind: 'mark', markId: 1, markTime: 1_700_000_000_000_000, app: 'db'},
    {kind: 'zero', ldev: 0, address: 8192, length: 4096},
    {kind: 'write', ldev: 0, address: 12288, data: randomBytes(512)},
    {kind: 'mark', markId: 2, markTime: 1_700_000_000_100_000, app: 'cron'},
  ];
  const onWire = entriesToWire(entries);
  const appended = await client.call<{appended: {logId: number; timer: number; logLdev: number; address: number}[]; warnings: string[]}>('appendToLog', {group: 1, entries: onWire.entries}, Buffer.concat(onWire.data));
  const viaLink = await link.appendToLog(1, entries);
  const withoutTimers = (list: {timer?: number}[]) => list.map(({timer: _, ...rest}) => rest);
  t.deepEqual(withoutTimers(appended.result.appended), withoutTimers(viaLink.appended));
  t.deepEqual(appended.result.appended.map(a => a.logId), [1, 2, 3, 4, 5, 6]);
  t.deepEqual(appended.result.warnings, viaLink.warnings);

  // listMarks
  const marks = (await client.call<{markId: number; app: string; logId: number}[]>('listMarks', {group: 1})).result;
  t.deepEqual(marks, await link.listMarks(1));
  t.deepEqual(marks.map(m => [m.markId, m.app, m.logId]), [[1, 'db', 3], [2, 'cron', 6]]);

  client.bye();
  t.is((await client.exited).code, 0);
  t.deepEqual(imagesOf(wire), imagesOf(local), 'the R-VOLs hold the same bytes');
  t.deepEqual(tablesOf(wire), tablesOf(local), 'the tables say the same');
  t.deepEqual(recordsOf(wire, 1), recordsOf(local, 1), 'the log holds the same records');
});

test('many requests sent before any answer is read are all answered, in the order of their ids, each after the one before it took effect', async t => {
  const {wire} = twinRemotes(t);
  const client = agent(t, wire);
  await client.hello();
  await client.call('reserveRvol', {ldev: 0, claim: claim(1, 5), minCapacity: 0});
  const pieces = Array.from({length: 200}, () => randomBytes(4096));
  const ids: number[] = [];
  // Each write then a read of it: a read answered before its write would see zeros.
  pieces.forEach((piece, i) => {
    ids.push(client.request('writeRvol', {ldev: 0, offset: i * 4096}, piece));
    ids.push(client.request('readRvol', {ldev: 0, offset: i * 4096, length: 4096}));
  });
  const last = await client.answer(ids.at(-1)!);
  t.is(last.type, 'response');
  const answers = client.frames.filter(f => f.type === 'response' || f.type === 'error') as {type: string; id: number; ack: number; binary?: Uint8Array}[];
  const fromFirst = answers.filter(a => a.id >= ids[0]);
  t.deepEqual(fromFirst.map(a => a.id), ids, 'answered in id order');
  t.true(fromFirst.every(a => a.type === 'response' && a.ack === a.id), 'each answer acknowledges its request');
  pieces.forEach((piece, i) => t.deepEqual(Buffer.from(fromFirst[2 * i + 1].binary!), piece, `read ${i} sees write ${i}`));
  client.endInput();
  t.is((await client.exited).code, 0);
});

test('a typed error crosses as its code and is rebuilt as the same class; the connection goes on', async t => {
  const {wire} = twinRemotes(t);
  const client = agent(t, wire);
  await client.hello();
  const error = await t.throwsAsync(client.call('writeRvol', {ldev: 42, offset: 0}, Buffer.alloc(512)), {instanceOf: VolumeNotFoundError});
  t.is(error?.code, 'VOLUME_NOT_FOUND');
  const bad = await client.answer(client.request('readRvol', {ldev: 'zero', offset: 0, length: 1}));
  t.is(bad.type, 'error');
  t.is(bad.type === 'error' && bad.error.code, 'INVALID_ARGUMENT');
  const local = await client.answer(client.request('receiveImage', {ldev: 0, imageFile: '/etc/passwd', force: true}));
  t.is(local.type === 'error' && local.error.code, 'WIRE_PROTOCOL', 'a file of the far side is never read for a client');
  const unknown = await client.answer(client.request('readRvol', {ldev: 0, offset: 0, length: 1}));
  t.is(unknown.type, 'response', 'still serving');
  // A class's own fields cross too (MARK_ID_REUSED's nextFree).
  await client.call('reserveRvol', {ldev: 0, claim: claim(1, 5), minCapacity: 0});
  await client.call('prepareLogGroup', {request: {primarySite: PRIMARY, members: [{rvol: 0, mvol: 5, pair: 1}]}});
  await client.call('appendToLog', {group: 1, entries: [{kind: 'mark', markId: 3, markTime: 1, app: 'a'}]});
  const reused = await t.throwsAsync(client.call('appendToLog', {group: 1, entries: [{kind: 'mark', markId: 2, markTime: 2, app: 'a'}]}), {instanceOf: MarkIdReusedError});
  t.is(reused?.nextFree, 4);
  client.bye();
  t.is((await client.exited).code, 0);
});

test('a corrupt frame is answered with ERROR id 0 and a non-zero exit, with one line on stderr, and the site is unchanged', async t => {
  const {wire} = twinRemotes(t);
  const client = agent(t, wire);
  await client.hello();
  await client.call('describeVolume', {ldev: 0});
  const before = snapshot(wire);
  const frame = encodeFrame({type: 'request', id: 2, ack: 1, method: 4, json: {ldev: 0, offset: 0}, binary: randomBytes(4096)});
  frame[frame.length - 10] ^= 0xff; // inside the binary part: the body's CRC no longer matches
  client.raw(frame);
  const exit = await client.exited;
  t.not(exit.code, 0);
  t.is(exit.stderr.trim().split('\n').length, 1, exit.stderr);
  t.regex(exit.stderr, /body checksum mismatch/);
  const last = client.frames.at(-1)!;
  t.is(last.type, 'error');
  t.like(last, {id: 0, method: 0});
  t.is(last.type === 'error' && last.error.code, 'WIRE_CORRUPT');
  t.deepEqual(snapshot(wire), before, 'nothing written');
});

test('end of input ends the agent with exit 0 after it answered the requests in hand, and stdout holds only frames', async t => {
  const {wire} = twinRemotes(t);
  const client = agent(t, wire);
  await client.hello();
  await client.call('reserveRvol', {ldev: 0, claim: claim(1, 5), minCapacity: 0});
  const ids = Array.from({length: 20}, (_, i) => client.request('writeRvol', {ldev: 0, offset: i * 512}, randomBytes(512)));
  client.endInput();
  const exit = await client.exited;
  t.is(exit.code, 0, exit.stderr);
  t.is(exit.stderr, '');
  t.deepEqual(client.frames.filter(f => f.type === 'response' && f.id >= ids[0]).map(f => (f as {id: number}).id), ids);
  t.is(client.decodeError, undefined, 'every byte on stdout is part of a frame');
});

test('an image arrives as extents into a staging file and is committed as receiveImage would: only what was sent is data, the rest zeros', async t => {
  const {wire, local} = twinRemotes(t);
  const client = agent(t, wire);
  await client.hello();
  const image = path.join(path.dirname(local), 'image.img');
  const extents = [{offset: 0, data: randomBytes(65536)}, {offset: 3 * MiB, data: randomBytes(4096)}];
  fs.writeFileSync(image, Buffer.alloc(0));
  fs.truncateSync(image, 4 * MiB);
  const fd = fs.openSync(image, 'r+');
  for (const e of extents) fs.writeSync(fd, e.data, 0, e.data.length, e.offset);
  fs.closeSync(fd);
  // Some bytes on LDEV 0 first, so the commit must overwrite them with zeros.
  for (const dir of [wire, local]) fs.writeFileSync(path.join(dir, 'volumes', 'ldev-0000.img'), randomBytes(MiB), {flag: 'r+'});
  const begun = (await client.call<{transfer: string; capacity: number}>('receiveImageBegin', {ldev: 0, force: true})).result;
  t.is(begun.capacity, 4 * MiB);
  t.true(fs.readdirSync(path.join(wire, 'receiving')).length === 1, 'a staging file waits at the remote');
  for (const e of extents) await client.call('receiveImageChunk', {transfer: begun.transfer, offset: e.offset}, e.data);
  await client.call('receiveImageCommit', {transfer: begun.transfer, force: true});
  const link = await LocalDirectoryLink.probe(local);
  await link.receiveImage(0, image, true);
  link.close();
  t.deepEqual(fs.readdirSync(path.join(wire, 'receiving')), [], 'the staging file is gone');
  t.deepEqual(imagesOf(wire), imagesOf(local));
  // A transfer begun and never committed is thrown away when the agent ends; the volume is untouched.
  const volumeBefore = snapshot(wire)['volumes/ldev-0000.img'];
  const second = (await client.call<{transfer: string}>('receiveImageBegin', {ldev: 0, force: true})).result;
  await client.call('receiveImageChunk', {transfer: second.transfer, offset: 0}, randomBytes(4096));
  client.bye();
  t.is((await client.exited).code, 0);
  t.deepEqual(fs.readdirSync(path.join(wire, 'receiving')), []);
  t.is(snapshot(wire)['volumes/ldev-0000.img'], volumeBefore);
});
