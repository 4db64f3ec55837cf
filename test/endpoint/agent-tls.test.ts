// Issue 15, item 3 (the TLS half): `marklog agent --listen HOST:PORT --tls-cert
// --tls-key --tls-ca` serves the wire protocol over TLS with mutual certificates.
// A primary's side (here node:tls with the test CA's client certificate, and the
// tests' wire client over that socket) gets a session per connection; a client with
// no certificate, one another CA signed, or one in plain text is refused in the
// handshake and the site is left byte for byte as it was; two connections at once
// are two sessions; SIGTERM lets the requests in hand be answered and exits 0. The
// last test puts the agent in another network namespace, with its directory on a
// file system mounted only there.
import fs from 'node:fs';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {EXIT_CODES, VolumeNotFoundError} from '../../src/errors.js';
import {initSite} from '../../src/site/site-admin.js';
import {Site} from '../../src/site/site.js';
import {createVolume} from '../../src/volume/volume-admin.js';
import {agentTlsFlags, connectPlain, connectTls, listeningAgent, startListening, stopAgent} from '../helpers/agent-tls.js';
import {BIN, cli} from '../helpers/cli.js';
import {network} from '../helpers/netns.js';
import {imagePath, randomBytes, snapshot, tempDir} from '../helpers/sites.js';
import {makeCertificates, type Certificates} from '../helpers/tls-certs.js';
import {WireClient} from '../helpers/wire-client.js';

const MiB = 1024 * 1024;
const claim = (pair: number, mvol: number) => ({pair, primarySite: 'e6c8da65d963855a', mvol});

/** A remote site with two 4 MiB volumes, and the test CA's certificates. */
function remoteSite(t: ExecutionContext): {dir: string; certs: Certificates} {
  const dir = path.join(tempDir(t), 'osaka');
  initSite({dir, role: 'remote'});
  const site = Site.open(dir);
  createVolume(site, 4 * MiB);
  createVolume(site, 4 * MiB);
  site.close();
  return {dir, certs: makeCertificates(t)};
}

/** A wire client over a TLS connection made with the test CA's client certificate. */
async function validClient(port: number, certs: Certificates): Promise<WireClient> {
  const socket = await connectTls(port, {cert: certs.client.cert, key: certs.client.key, ca: [certs.client.ca]});
  return new WireClient(socket);
}

test('Fig. 14 over TLS: a client whose certificate the CA signed says HELLO, reserves an R-VOL, writes pipelined before any answer, reads back and flushes', async t => {
  const {dir, certs} = remoteSite(t);
  const agent = await listeningAgent(t, dir, certs);
  t.like(agent.ready, {tls: true, site: {role: 'remote', name: 'osaka'}});
  t.regex(agent.ready.listening.url, /^tls:\/\/127\.0\.0\.1:\d+$/);

  const client = await validClient(agent.port, certs);
  const welcome = await client.hello();
  t.is(welcome.site.id, agent.ready.site.id);
  await client.call('reserveRvol', {ldev: 0, claim: claim(1, 5), minCapacity: 4 * MiB});
  const blocks = Array.from({length: 32}, () => randomBytes(64 * 1024));
  const ids = blocks.map((data, i) => client.request('writeRvol', {ldev: 0, offset: i * data.length}, data));
  for (const id of ids) t.is((await client.answer(id)).type, 'response', `write ${id}`);
  const {data} = await client.call('readRvol', {ldev: 0, offset: 0, length: 32 * 64 * 1024});
  t.true(data.equals(Buffer.concat(blocks)), 'the R-VOL holds every write, read back over TLS');
  await client.call('flushRvol', {ldev: 0});
  await t.throwsAsync(client.call('writeRvol', {ldev: 7, offset: 0}, Buffer.alloc(512)), {instanceOf: VolumeNotFoundError});
  const answers = client.frames.filter(f => f.type === 'response' || f.type === 'error').map(f => (f as {id: number}).id);
  t.deepEqual(answers, [...answers].sort((a, b) => a - b), 'answered in id order');
  t.true(fs.readFileSync(imagePath(dir, 0)).subarray(0, data.length).equals(data), 'and on the remote\'s disk');

  client.bye();
  await client.exited;
  t.false(client.frames.some(f => f.type === 'error' && f.id === 0), 'BYE ends the session without a fatal ERROR, and the agent closes the connection');
  const exit = await stopAgent(agent);
  t.is(exit.code, 0, exit.stderr);
});

test('a client without a certificate, one another CA signed and a plaintext one are refused in the handshake: no frame is answered and the site is unchanged', async t => {
  const {dir, certs} = remoteSite(t);
  const agent = await listeningAgent(t, dir, certs);
  const before = snapshot(dir);
  const attempts: [string, () => Promise<import('node:stream').Duplex>][] = [
    ['no certificate', () => connectTls(agent.port, {ca: [certs.client.ca]})],
    ['another CA', () => connectTls(agent.port, {cert: certs.foreign.cert, key: certs.foreign.key, ca: [certs.client.ca]})],
    ['plain text', () => connectPlain(agent.port)],
  ];
  for (const [who, connect] of attempts) {
    // In TLS 1.3 the client's side of the handshake ends before the agent judges its certificate: then it tries to talk.
    const socket = await connect().catch(() => undefined);
    if (!socket) continue;
    const client = new WireClient(socket);
    client.send({type: 'hello', ack: 0, hello: {protocol: {min: 1, max: 1}, session: '0000000000000000', client: 'e6c8da65d963855a', site: ''}});
    client.request('writeRvol', {ldev: 0, offset: 0}, Buffer.alloc(65536, 0xee));
    client.request('reserveRvol', {ldev: 1, claim: claim(9, 9), minCapacity: MiB});
    const ended = await client.exited;
    t.is(client.frames.length, 0, `${who}: no frame came back`);
    t.is(ended.stdout.length === 0 || who === 'plain text', true, `${who}: not a byte of the wire protocol`);
  }
  t.deepEqual(snapshot(dir), before, 'the remote\'s directory is byte for byte as it was');
  t.regex(agent.stderr(), /refused .* during the TLS handshake/);

  // The refusals did not hurt the listener: a valid client still gets its session.
  const client = await validClient(agent.port, certs);
  await client.hello();
  t.is((await client.call('describeVolume', {ldev: 0})).result !== null, true);
  client.bye();
  t.is((await stopAgent(agent)).code, 0);
});

test('two clients at once each get their own session: their pipelined writes to two R-VOLs interleave and each is answered in its own id order', async t => {
  const {dir, certs} = remoteSite(t);
  const agent = await listeningAgent(t, dir, certs);
  const [a, b] = await Promise.all([validClient(agent.port, certs), validClient(agent.port, certs)]);
  const [wa, wb] = await Promise.all([a.hello('aaaaaaaaaaaaaaaa'), b.hello('bbbbbbbbbbbbbbbb')]);
  t.not(wa.session, wb.session, 'two sessions');
  await Promise.all([a.call('reserveRvol', {ldev: 0, claim: claim(1, 5), minCapacity: MiB}), b.call('reserveRvol', {ldev: 1, claim: claim(2, 6), minCapacity: MiB})]);
  const dataA = Array.from({length: 24}, () => randomBytes(32 * 1024));
  const dataB = Array.from({length: 24}, () => randomBytes(32 * 1024));
  const idsA: number[] = [];
  const idsB: number[] = [];
  for (let i = 0; i < 24; i++) {
    idsA.push(a.request('writeRvol', {ldev: 0, offset: i * 32 * 1024}, dataA[i]));
    idsB.push(b.request('writeRvol', {ldev: 1, offset: i * 32 * 1024}, dataB[i]));
  }
  for (const [client, ids] of [[a, idsA], [b, idsB]] as const) {
    for (const id of ids) t.is((await client.answer(id)).type, 'response');
    const order = client.frames.filter(f => f.type === 'response').map(f => (f as {id: number}).id);
    t.deepEqual(order, [...order].sort((x, y) => x - y));
  }
  t.true((await a.call('readRvol', {ldev: 0, offset: 0, length: 24 * 32 * 1024})).data.equals(Buffer.concat(dataA)));
  t.true((await b.call('readRvol', {ldev: 1, offset: 0, length: 24 * 32 * 1024})).data.equals(Buffer.concat(dataB)));
  a.bye();
  b.bye();
  await Promise.all([a.exited, b.exited]);
  t.is((await stopAgent(agent)).code, 0);
});

test('SIGTERM stops listening, answers the requests in hand, ends the connection and exits 0; what was answered is on the R-VOL', async t => {
  const {dir, certs} = remoteSite(t);
  const agent = await listeningAgent(t, dir, certs);
  const client = await validClient(agent.port, certs);
  await client.hello();
  await client.call('reserveRvol', {ldev: 0, claim: claim(1, 5), minCapacity: 4 * MiB});
  const blocks = Array.from({length: 48}, () => randomBytes(64 * 1024));
  const ids = blocks.map((data, i) => client.request('writeRvol', {ldev: 0, offset: i * data.length}, data));
  await client.answer(ids[0]);
  agent.child.kill('SIGTERM');
  const exit = await agent.done;
  t.is(exit.code, 0, exit.stderr);
  await client.exited;
  const answered = client.frames.filter(f => f.type === 'response' && ids.includes(f.id)).map(f => (f as {id: number}).id);
  t.true(client.frames.every(f => f.type !== 'error'), 'no request was cut off with an error');
  t.deepEqual(answered, ids.slice(0, answered.length), 'the answers are the first requests, in order');
  const image = fs.readFileSync(imagePath(dir, 0));
  answered.forEach((id, i) => t.true(image.subarray(i * 65536, (i + 1) * 65536).equals(blocks[i]), `write ${id} is on the R-VOL`));
  t.true((await connectTls(agent.port, {cert: certs.client.cert, key: certs.client.key, ca: [certs.client.ca]}).then(() => false, () => true)), 'nothing listens any more');
});

test('--listen without the three --tls-* files, or with only some, and --tls-* or --json without --listen, are refused in one line before anything listens', t => {
  const {dir, certs} = remoteSite(t);
  const cases: [string[], string][] = [
    [['--listen', '127.0.0.1:0'], 'AGENT_TLS_REQUIRED'],
    [['--listen', '0.0.0.0:0'], 'AGENT_TLS_REQUIRED'],
    [['--listen', '127.0.0.1:0', '--tls-cert', certs.server.cert], 'TLS_FLAGS_INCOMPLETE'],
    [agentTlsFlags(certs), 'AGENT_NOT_LISTENING'],
    [['--json'], 'AGENT_NOT_LISTENING'],
    [['--listen', 'nowhere', ...agentTlsFlags(certs)], 'INVALID_ARGUMENT'],
  ];
  for (const [flags, code] of cases) {
    const result = cli(['agent', '--site', dir, ...flags], {env: {NODE_ENV: undefined}});
    t.is(result.code, EXIT_CODES.usage, `${flags.join(' ')}: ${result.stderr}`);
    t.regex(result.stderr, /^marklog: [^\n]+\n$/, `${flags.join(' ')}: one line`);
    t.is(result.stdout, '', `${code}: nothing on stdout`);
  }
});

test('two machines: a client in another network namespace reaches the agent over TLS at the remote namespace\'s address and writes an R-VOL whose directory exists only in that namespace', async t => {
  const net = network(t, 1);
  const [primary] = net.clients;
  const certs = makeCertificates(t, [primary.serverAddress]);
  // An empty directory here; in the remote's namespace a file system is mounted on it
  // that only processes started there see. The site is made, served and checked there.
  const mountpoint = path.join(tempDir(t), 'remote-machine');
  fs.mkdirSync(mountpoint);
  const site = path.join(mountpoint, 'osaka');
  const marklog = `'${process.execPath}' '${BIN}'`;
  const script = [
    'set -e',
    `mount -t tmpfs remote-machine '${mountpoint}'`,
    `${marklog} site init '${site}' --role remote --json >&2`,
    `${marklog} volume create --site '${site}' --size 4M --json >&2`,
    `${marklog} agent --site '${site}' --listen ${primary.serverAddress}:0 ${agentTlsFlags(certs).map(a => `'${a}'`).join(' ')} --json & pid=$!`,
    'trap \'kill -TERM $pid\' TERM',
    'set +e',
    'wait $pid; rc=$?',
    'if [ $rc -gt 128 ]; then wait $pid; rc=$?; fi',
    'echo "agent exited $rc"',
    `sha256sum '${site}'/volumes/ldev-0000*`,
  ].join('\n');
  const agent = await startListening(t, [...net.server.wrap, 'sh', '-c', script]);
  t.is(agent.ready.listening.host, primary.serverAddress);
  t.deepEqual(fs.readdirSync(mountpoint), [], 'outside the remote\'s namespace its directory is empty');

  const relay = path.join(path.dirname(BIN), '..', 'dist', 'test', 'helpers', 'tls-relay.js');
  const client = new WireClient({command: [...primary.wrap, process.execPath, relay, primary.serverAddress, String(agent.port), certs.client.cert, certs.client.key, certs.client.ca]});
  t.teardown(() => client.child.kill('SIGKILL'));
  const welcome = await client.hello();
  t.is(welcome.site.role, 'remote');
  await client.call('reserveRvol', {ldev: 0, claim: claim(1, 5), minCapacity: 4 * MiB});
  const blocks = Array.from({length: 16}, () => randomBytes(64 * 1024));
  const ids = blocks.map((data, i) => client.request('writeRvol', {ldev: 0, offset: i * data.length}, data));
  for (const id of ids) t.is((await client.answer(id)).type, 'response');
  await client.call('flushRvol', {ldev: 0});
  t.true((await client.call('readRvol', {ldev: 0, offset: 0, length: 16 * 65536})).data.equals(Buffer.concat(blocks)));
  client.bye();
  t.is((await client.exited).code, 0);

  const exit = await stopAgent(agent);
  t.is(exit.code, 0, exit.stderr);
  t.regex(exit.stdout, /agent exited 0/);
  const expected = Buffer.alloc(4 * MiB);
  Buffer.concat(blocks).copy(expected);
  const {createHash} = await import('node:crypto');
  t.regex(exit.stdout, new RegExp(`^${createHash('sha256').update(expected).digest('hex')} `, 'm'), 'the R-VOL in the remote\'s namespace holds the writes');
  t.deepEqual(fs.readdirSync(mountpoint), [], 'and nothing of it ever appeared here');
});
