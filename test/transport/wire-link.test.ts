// The primary's side of the wire (issue 15, items 1–3 and 5): WireLink, the SiteLink
// that speaks to `marklog agent` over a child process's pipes, over ssh to sshd on
// loopback, and over mutual TLS. Calls go out back to back before any answer; an
// agent that dies or goes silent fails exactly the requests without an answer, as
// REMOTE_UNREACHABLE naming each, and the next call connects again.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {InvalidArgumentError, OutOfRangeError, RemoteUnreachableError, VolumeNotFoundError, WrongRoleError} from '../../src/errors.js';
import {initSite} from '../../src/site/site-admin.js';
import {Site} from '../../src/site/site.js';
import {createVolume} from '../../src/volume/volume-admin.js';
import {parseRemoteAddress} from '../../src/transport/remote-address.js';
import {commandConnection, sshCommandLine, sshConnection} from '../../src/transport/ssh-connection.js';
import {tlsConnection} from '../../src/transport/tls-connection.js';
import {WireLink, PIECE_BYTES} from '../../src/transport/wire-link.js';
import {BIN} from '../helpers/cli.js';
import {imagePath, randomBytes, tempDir} from '../helpers/sites.js';
import {sshServer} from '../helpers/sshd.js';
import {makeCertificates} from '../helpers/tls-certs.js';
import {listeningAgent} from '../helpers/agent-tls.js';
import {waitFor} from '../helpers/wait.js';

const MiB = 1024 * 1024;
const PRIMARY = 'e6c8da65d963855a';
const claim = {pair: 1, primarySite: PRIMARY, mvol: 0};

function remoteSite(t: import('ava').ExecutionContext, size = 4 * MiB): {dir: string; id: string} {
  const dir = path.join(tempDir(t), 'osaka');
  initSite({dir, role: 'remote'});
  const site = Site.open(dir);
  createVolume(site, size);
  const id = site.tables().site.id;
  site.close();
  return {dir, id};
}

function agentCommand(dir: string): string[] {
  return [process.execPath, BIN, 'agent', '--site', dir];
}

test('a remote address is a directory, ssh://[user@]host[:port]/path or tls://host:port; anything else is refused in one line', t => {
  t.deepEqual(parseRemoteAddress('/srv/osaka'), {kind: 'directory', dir: '/srv/osaka'});
  t.deepEqual(parseRemoteAddress('../osaka'), {kind: 'directory', dir: '../osaka'});
  t.deepEqual(parseRemoteAddress('ssh://dr.example/srv/marklog/osaka'), {kind: 'ssh', user: undefined, host: 'dr.example', port: undefined, path: '/srv/marklog/osaka'});
  t.deepEqual(parseRemoteAddress('ssh://backup@10.0.0.7:2222/srv/my%20site'), {kind: 'ssh', user: 'backup', host: '10.0.0.7', port: 2222, path: '/srv/my site'});
  t.deepEqual(parseRemoteAddress('ssh://[::1]:22/s'), {kind: 'ssh', user: undefined, host: '::1', port: 22, path: '/s'});
  t.deepEqual(parseRemoteAddress('tls://dr.example:7070'), {kind: 'tls', host: 'dr.example', port: 7070});
  t.deepEqual(parseRemoteAddress('TLS://[fd00::2]:7070'), {kind: 'tls', host: 'fd00::2', port: 7070});
  const refused: [string, RegExp][] = [
    ['', /empty/],
    ['tls://dr.example', /names no port/],
    ['tls://dr.example:0', /not a TCP port/],
    ['tls://dr.example:70000', /not a TCP port/],
    ['tls://u@dr.example:7070', /has no user/],
    ['tls://dr.example:7070/srv', /has no path/],
    ['ssh://dr.example', /names no site directory/],
    ['ssh://dr.example/', /names no site directory/],
    ['ssh://u:secret@dr.example/s', /carries a password/],
    ['ssh://dr.example/s?x=1', /query or fragment/],
    ['http://dr.example/s', /does not know the scheme http/],
  ];
  for (const [address, why] of refused) {
    const error = t.throws(() => parseRemoteAddress(address), {instanceOf: InvalidArgumentError}, address);
    t.regex(error!.message, why, address);
    t.notRegex(error!.message, /\n/, `${address}: one line`);
  }
});

test('the ssh command line is ssh, BatchMode, the port, the host, then the agent\'s command quoted for the remote shell', t => {
  const address = {kind: 'ssh', user: 'backup', host: 'dr.example', port: 2222, path: "/srv/it's here"} as const;
  t.deepEqual(sshCommandLine(address, {}), ['ssh', '-o', 'BatchMode=yes', '-p', '2222', '--', 'backup@dr.example', `marklog agent --site '/srv/it'\\''s here'`]);
  t.deepEqual(sshCommandLine({...address, user: undefined, port: undefined, path: '/srv/osaka'}, {MARKLOG_SSH: 'ssh -i /k/id -F /k/config', MARKLOG_REMOTE_COMMAND: '/opt/marklog/bin/marklog'}),
    ['ssh', '-i', '/k/id', '-F', '/k/config', '-o', 'BatchMode=yes', '--', 'dr.example', '/opt/marklog/bin/marklog agent --site /srv/osaka']);
});

test('over a child process\'s pipes: writes sent back to back reach the R-VOL in order, a read spans several frames, errors come back as their own types', async t => {
  const remote = remoteSite(t, 32 * MiB);
  const link = await WireLink.open({address: remote.dir, client: PRIMARY, site: '', connect: async () => commandConnection(agentCommand(remote.dir))});
  t.teardown(() => link.close());
  t.deepEqual(link.remote, {id: remote.id, name: 'osaka', role: 'remote'});
  await link.reserveRvol(0, claim, 32 * MiB);

  // The same block written three times with different bytes: only the order makes the last one win.
  const writes = [];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 64; i++) writes.push(link.writeRvol(0, i * 4096, Buffer.alloc(4096, round * 64 + i)));
  }
  await Promise.all(writes);
  const big = randomBytes(PIECE_BYTES * 2 + 12345);
  await link.writeRvol(0, MiB, big);
  await link.flushRvol(0);
  const back = await link.readRvol(0, MiB, big.length);
  t.true(back.equals(big), 'a range larger than one frame goes out and comes back in pieces');
  const first = await link.readRvol(0, 0, 64 * 4096);
  for (let i = 0; i < 64; i++) t.is(first[i * 4096], 128 + i, `block ${i} holds the last round`);
  t.true(fs.readFileSync(imagePath(remote.dir, 0)).subarray(MiB, MiB + big.length).equals(big), 'and the R-VOL\'s image file holds them');

  await t.throwsAsync(link.writeRvol(9, 0, Buffer.alloc(512)), {instanceOf: VolumeNotFoundError});
  await t.throwsAsync(link.readRvol(0, 32 * MiB - 4096, 8192), {instanceOf: OutOfRangeError});
  t.is((await link.describeVolume(0))?.capacity, 32 * MiB, 'the session goes on after an error');
});

test('an agent killed mid-stream: every request without an answer fails as REMOTE_UNREACHABLE naming its method and id, and the next call connects again', async t => {
  const remote = remoteSite(t);
  const connections: ReturnType<typeof commandConnection>[] = [];
  const link = await WireLink.open({address: remote.dir, client: PRIMARY, site: '', connect: async () => {
    const connection = commandConnection(agentCommand(remote.dir));
    connections.push(connection);
    return connection;
  }});
  t.teardown(() => link.close());
  await link.reserveRvol(0, claim, 4 * MiB);
  const outcomes = Array.from({length: 400}, (_, i) => link.writeRvol(0, (i % 1024) * 4096, randomBytes(4096)).then(() => 'done', (error: unknown) => error));
  process.kill(connections[0].pid!, 'SIGKILL');
  const settled = await Promise.all(outcomes);
  const failed = settled.filter(outcome => outcome !== 'done') as Error[];
  t.true(failed.length > 0, 'the kill came before the last answer');
  for (const error of failed) {
    t.true(error instanceof RemoteUnreachableError, String(error));
    t.regex(error.message, /request \d+ \(writeRvol\) has no answer/);
  }
  const firstFailed = settled.findIndex(outcome => outcome !== 'done');
  t.true(settled.slice(firstFailed).every(outcome => outcome !== 'done'), 'answers stop at one point: every request after the first unanswered one is unanswered too');

  t.is((await link.describeVolume(0))?.capacity, 4 * MiB, 'the next call opened a new session');
  t.is(connections.length, 2);
});

test('an agent that stops answering is taken as lost after the link\'s timeout, its requests failed, and the link connects again', async t => {
  const remote = remoteSite(t);
  const connections: ReturnType<typeof commandConnection>[] = [];
  // The bound also covers the next agent's start and HELLO: long enough for a node process on a loaded machine.
  const link = await WireLink.open({address: remote.dir, client: PRIMARY, site: '', timeoutMs: 2000, connect: async () => {
    const connection = commandConnection(agentCommand(remote.dir));
    connections.push(connection);
    return connection;
  }});
  t.teardown(() => link.close());
  process.kill(connections[0].pid!, 'SIGSTOP');
  t.teardown(() => {
    try {
      process.kill(connections[0].pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  });
  const started = Date.now();
  const error = await t.throwsAsync(link.describeVolume(0), {instanceOf: RemoteUnreachableError});
  t.regex(error!.message, /no answer for 2000 ms; request 1 \(describeVolume\) has no answer/);
  t.true(Date.now() - started < 8_000);
  t.is((await link.describeVolume(0))?.capacity, 4 * MiB);
});

test('a link checks it reaches the site it was made with: the same address serving another site is WRONG_ROLE', async t => {
  const remote = remoteSite(t);
  const other = path.join(tempDir(t), 'kobe');
  initSite({dir: other, role: 'remote'});
  let dir = remote.dir;
  const link = await WireLink.open({address: 'dr', client: PRIMARY, site: remote.id, connect: async () => commandConnection(agentCommand(dir))});
  t.teardown(() => link.close());
  dir = other;
  link.close();
  await t.throwsAsync(link.describeVolume(0), {instanceOf: WrongRoleError});
});

test('over ssh to sshd on loopback with a throwaway key: the agent started by ssh takes writes and reads them back; a refused login is REMOTE_UNREACHABLE with ssh\'s own words', async t => {
  const server = await sshServer(t);
  const remote = remoteSite(t);
  const address = parseRemoteAddress(`ssh://${server.user}@127.0.0.1:${server.port}${remote.dir}`);
  if (address.kind !== 'ssh') throw new Error('parsed as ssh');
  const options = server.ssh.slice(0, -1).filter((_, i, all) => !(all[i] === '-p' || all[i - 1] === '-p'));
  const env = {MARKLOG_SSH: options.join(' '), MARKLOG_REMOTE_COMMAND: `${process.execPath} ${BIN}`};
  const link = await WireLink.open({address: 'ssh', client: PRIMARY, site: '', connect: async () => sshConnection(address, env)});
  t.teardown(() => link.close());
  t.is(link.remote.id, remote.id);
  await link.reserveRvol(0, claim, 4 * MiB);
  const data = randomBytes(MiB);
  await Promise.all([link.writeRvol(0, 0, data.subarray(0, MiB / 2)), link.writeRvol(0, MiB / 2, data.subarray(MiB / 2))]);
  t.true((await link.readRvol(0, 0, MiB)).equals(data));

  const stranger = {...address, user: 'nobody-here'};
  const error = await t.throwsAsync(WireLink.open({address: 'ssh', client: PRIMARY, site: '', retries: 0, connect: async () => sshConnection(stranger, env)}), {instanceOf: RemoteUnreachableError});
  t.regex(error!.message, /Permission denied|ssh exited with 255/);
});

test('over mutual TLS: a client with the CA\'s certificate writes and reads; one with a certificate another CA signed is REMOTE_UNREACHABLE before any request', async t => {
  const certs = makeCertificates(t);
  const remote = remoteSite(t);
  const agent = await listeningAgent(t, remote.dir, certs);
  const address = {kind: 'tls', host: '127.0.0.1', port: agent.port} as const;
  const credentials = {cert: fs.readFileSync(certs.client.cert), key: fs.readFileSync(certs.client.key), ca: fs.readFileSync(certs.client.ca)};
  const link = await WireLink.open({address: `tls://127.0.0.1:${agent.port}`, client: PRIMARY, site: '', connect: async () => tlsConnection(address, credentials)});
  t.teardown(() => link.close());
  t.is(link.remote.id, remote.id);
  await link.reserveRvol(0, claim, 4 * MiB);
  const data = randomBytes(256 * 1024);
  await link.writeRvol(0, 4096, data);
  t.true((await link.readRvol(0, 4096, data.length)).equals(data));

  const foreign = {...credentials, cert: fs.readFileSync(certs.foreign.cert), key: fs.readFileSync(certs.foreign.key)};
  await t.throwsAsync(WireLink.open({address: 'tls', client: PRIMARY, site: '', retries: 0, connect: async () => tlsConnection(address, foreign)}), {instanceOf: RemoteUnreachableError});
  await waitFor(() => /refused|certificate/i.test(agent.stderr()), {what: 'the agent to log the refusal', seen: agent.stderr});
});
