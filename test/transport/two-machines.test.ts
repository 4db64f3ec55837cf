// The test rig for a remote site on another machine (issue 15, item 6), tested
// itself: a remote machine whose directory exists only inside it, a primary in a
// network namespace of its own that reaches it over a veth pair, the faults put on
// that link (a partition that drops or rejects, random loss, a rate limit), latency
// from a delaying proxy, and fake-ssh, which stands in for ssh so the product's
// ssh-style transport runs the agent as a child over pipes, here or inside the
// machine. Each test checks the fault's effect, so a helper that silently does
// nothing fails it; and after all of them nothing the machines made is left. The
// tests run one at a time: they time round trips and transfers in this process's
// event loop, which another test's synchronous commands (spawnSync of nft, tc,
// marklog) would stall for as long as those run.
import {spawnSync} from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import test, {type ExecutionContext} from 'ava';
import {parseRemoteAddress} from '../../src/transport/remote-address.js';
import {sshCommandLine} from '../../src/transport/ssh-connection.js';
import {delayProxy, delayRelay} from '../helpers/delay-proxy.js';
import {fakeSshEnv} from '../helpers/fake-ssh-env.js';
import {NFT, linkFaults} from '../helpers/link-faults.js';
import {leftovers, remoteMachine} from '../helpers/remote-machine.js';
import {cli} from '../helpers/cli.js';
import {tempDir} from '../helpers/sites.js';
import {echoServer, retransmittedSegments, sha256, tcpPipe} from '../helpers/tcp-probe.js';
import {waitFor} from '../helpers/wait.js';
import {WireClient} from '../helpers/wire-client.js';

const MB = 1_000_000;

/** A remote machine with an echo server, the link's faults at hand, and one connection across it already open. */
async function echoAcrossTheLink(t: ExecutionContext) {
  const machine = await remoteMachine(t);
  const faults = linkFaults(t, machine);
  const port = await echoServer(machine, machine.address);
  const pipe = tcpPipe(machine.primary, machine.address, port);
  t.is(await pipe.connected, 'connected');
  return {machine, faults, port, pipe};
}

test.serial('a remote machine\'s directory is empty from the tests\' namespace and the primary\'s, while what its commands write there is inside', async t => {
  const machine = await remoteMachine(t);
  const written = path.join(machine.dir, 'written-inside');
  t.is(machine.run(['sh', '-c', `echo osaka > '${written}'`]).code, 0);
  t.is(machine.run(['cat', written]).stdout, 'osaka\n');
  t.is((await machine.runAsync(['cat', 'written-inside'])).stdout, 'osaka\n', 'a command starts in the machine\'s directory');
  const site = path.join(machine.dir, 'osaka');
  t.is(machine.marklogJson<{role: string}>(['site', 'init', site, '--role', 'remote']).role, 'remote');
  t.is(machine.marklog(['site', 'show', '--site', site]).code, 0, 'marklog on the machine finds its site');

  t.deepEqual(fs.readdirSync(machine.dir), [], 'seen from here, the directory is empty');
  t.is(machine.primary.run(['ls', '-A', machine.dir]).stdout, '', 'and from the primary\'s namespace');
  t.is(cli(['site', 'show', '--site', site]).code, 3, 'marklog here finds no site there');
  const primarySite = path.join(tempDir(t), 'tokyo');
  t.is(machine.primary.marklogJson<{role: string}>(['site', 'init', primarySite, '--role', 'primary']).role, 'primary');
  t.true(fs.existsSync(path.join(primarySite, 'tables.json')), 'the primary writes the ordinary file system');
  t.not(machine.primary.address, machine.address);
  t.regex(machine.primary.run(['ip', '-o', 'addr', 'show', 'dev', machine.primary.device]).stdout, new RegExp(` ${machine.primary.address.replaceAll('.', '\\.')}/`));
});

test.serial('TCP from the primary reaches an echo on the remote, stalls under partition("drop"), and the stalled bytes arrive after heal()', async t => {
  const {machine, faults, port, pipe} = await echoAcrossTheLink(t);
  t.is((await pipe.roundTrip(Buffer.from('before '))).echoed.toString(), 'before ');

  faults.partition('drop');
  pipe.send(Buffer.from('stalled'));
  const late = tcpPipe(machine.primary, machine.address, port, 1500);
  const [arrived, connect] = await Promise.all([pipe.receivedBy(14, 1500), late.connected]);
  t.false(arrived, 'nothing crosses the partition');
  t.is(connect, 'ETIMEDOUT', 'a new connect gets no answer at all');
  t.true(faults.counts().partitioned > 0, faults.describe());

  faults.heal();
  t.true(await pipe.receivedBy(14, 15_000), 'TCP retransmits the stalled bytes once the link is back');
  t.is(pipe.received().toString(), 'before stalled');
  const after = tcpPipe(machine.primary, machine.address, port);
  t.is(await after.connected, 'connected');
  t.is((await after.roundTrip(Buffer.from('after'))).echoed.toString(), 'after');
});

test.serial('partition("reject") refuses a connect at once and resets a connection in flight; after heal() a new one works', async t => {
  const {machine, faults, port, pipe} = await echoAcrossTheLink(t);

  faults.partition('reject');
  const started = performance.now();
  t.is(await tcpPipe(machine.primary, machine.address, port, 5000).connected, 'ECONNREFUSED');
  t.true(performance.now() - started < 4000, 'refused, not timed out');
  pipe.send(Buffer.from('reset me'));
  await waitFor(() => pipe.status().includes('tcp-pipe: ECONNRESET'), {what: 'the connection in flight to be reset', timeoutMs: 10_000, seen: () => pipe.status().join(' / ')});
  t.true(faults.counts().partitioned >= 2);

  faults.heal();
  const after = tcpPipe(machine.primary, machine.address, port);
  t.is(await after.connected, 'connected');
  t.is((await after.roundTrip(Buffer.from('healed'))).echoed.toString(), 'healed');
});

test.serial('randomLoss(5) leaves a 4 MB transfer intact, while nft counts the drops and TCP retransmits', async t => {
  const {machine, faults, pipe} = await echoAcrossTheLink(t);
  const retransmitted = () => retransmittedSegments(machine) + retransmittedSegments(machine.primary);
  const before = retransmitted();

  faults.randomLoss(5);
  const bytes = crypto.randomBytes(4 * MB);
  const {ms, echoed} = await pipe.roundTrip(bytes);
  t.is(sha256(echoed), sha256(bytes), 'every byte came back, in order');
  const dropped = faults.counts().lost;
  t.true(dropped > 0, faults.describe());
  t.true(retransmitted() > before, 'TCP retransmitted what was dropped');
  t.log(`4 MB each way at 5 % loss: ${Math.round(ms)} ms, ${dropped} packets dropped, ${retransmitted() - before} segments retransmitted`);

  faults.randomLoss(0);
  t.is(sha256((await pipe.roundTrip(bytes)).echoed), sha256(bytes));
  t.is(faults.counts().lost, 0, 'randomLoss(0) removes the rule (and its counter)');
});

test.serial('rateLimit(1 MB/s) makes a 3 MB transfer take at least 2.5 s, and clear() lifts it', async t => {
  const {faults, pipe} = await echoAcrossTheLink(t);
  const bytes = crypto.randomBytes(3 * MB);
  const free = await pipe.roundTrip(bytes);
  t.true(free.ms < 2000, `unlimited: ${free.ms} ms`);

  faults.rateLimit(1 * MB);
  t.regex(faults.describe(), /qdisc tbf .*rate 8Mbit/);
  const limited = await pipe.roundTrip(bytes);
  t.is(sha256(limited.echoed), sha256(bytes));
  t.true(limited.ms >= 2500, `limited: ${limited.ms} ms`);

  faults.clear();
  t.notRegex(faults.describe(), /tbf|marklog_link/);
  const lifted = await pipe.roundTrip(bytes);
  t.true(lifted.ms < 2000, `after clear(): ${lifted.ms} ms`);
  t.log(`3 MB each way: ${Math.round(free.ms)} ms free, ${Math.round(limited.ms)} ms at 1 MB/s, ${Math.round(lifted.ms)} ms after clear()`);
});

/** A round trip of `bytes` on a socket: the time until as many bytes came back, and those bytes. */
function socketRoundTrip(socket: net.Socket, bytes: Buffer): Promise<{ms: number; echoed: Buffer}> {
  const started = performance.now();
  const chunks: Buffer[] = [];
  let length = 0;
  return new Promise(resolve => {
    const take = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length < bytes.length) return;
      socket.off('data', take);
      resolve({ms: performance.now() - started, echoed: Buffer.concat(chunks)});
    };
    socket.on('data', take);
    socket.write(bytes);
  });
}

test.serial('the delay proxy: a request/response round trip takes at least twice the delay, and 10 MB pass unchanged', async t => {
  const echo = net.createServer({allowHalfOpen: true}, socket => socket.pipe(socket));
  await new Promise<void>(resolve => echo.listen(0, '127.0.0.1', resolve));
  t.teardown(() => echo.close());
  const proxy = await delayProxy({target: {host: '127.0.0.1', port: (echo.address() as net.AddressInfo).port}, delayMs: 25});
  t.teardown(() => proxy.close());
  const socket = net.connect(proxy.port, proxy.host);
  socket.setNoDelay(true);
  await new Promise(resolve => socket.once('connect', resolve));

  const trips = [];
  for (let i = 0; i < 5; i++) trips.push((await socketRoundTrip(socket, Buffer.from('ping'))).ms);
  t.true(Math.min(...trips) >= 50, `round trips ${trips.map(Math.round).join(', ')} ms`);
  const bytes = crypto.randomBytes(10 * 1024 * 1024);
  const bulk = await socketRoundTrip(socket, bytes);
  t.is(sha256(bulk.echoed), sha256(bytes), 'the same bytes in the same order');
  t.log(`round trips ${trips.map(Math.round).join(', ')} ms; 10 MiB each way in ${Math.round(bulk.ms)} ms`);

  const ended = new Promise(resolve => socket.once('end', resolve));
  socket.end();
  await ended;
  t.pass('an end crosses the proxy after the bytes before it, and the echo\'s end comes back');
});

test.serial('a delay relay inside the primary\'s namespace puts 25 ms each way on its path to the remote', async t => {
  const machine = await remoteMachine(t);
  const port = await echoServer(machine, machine.address);
  const relay = await delayRelay(machine.primary, {listen: {host: '127.0.0.1', port: 0}, target: {host: machine.address, port}, delayMs: 25});
  const direct = tcpPipe(machine.primary, machine.address, port);
  const delayed = tcpPipe(machine.primary, '127.0.0.1', relay.port);
  t.is(await direct.connected, 'connected');
  t.is(await delayed.connected, 'connected');
  const trips = {direct: [] as number[], delayed: [] as number[]};
  for (let i = 0; i < 5; i++) {
    trips.direct.push((await direct.roundTrip(Buffer.from('ping'))).ms);
    trips.delayed.push((await delayed.roundTrip(Buffer.from('ping'))).ms);
  }
  t.true(Math.min(...trips.delayed) >= 50, `through the relay: ${trips.delayed.map(Math.round).join(', ')} ms`);
  t.true(Math.min(...trips.direct) < 25, `direct: ${trips.direct.map(Math.round).join(', ')} ms`);
  const bytes = crypto.randomBytes(2 * MB);
  t.is(sha256((await delayed.roundTrip(bytes)).echoed), sha256(bytes));
});

/** The argv the product runs for ssh://root@osaka.example:2222/SITE, with fake-ssh as ssh. */
function productSshCommand(site: string, env: NodeJS.ProcessEnv): string[] {
  const address = parseRemoteAddress(`ssh://root@osaka.example:2222${site}`);
  if (address.kind !== 'ssh') throw new Error(`not an ssh address: ${JSON.stringify(address)}`);
  return sshCommandLine(address, {...process.env, ...env});
}

test.serial('fake-ssh runs the agent the product\'s ssh command line names, as a child over pipes: HELLO gets WELCOME', async t => {
  const site = path.join(tempDir(t), 'osaka');
  t.is(cli(['site', 'init', site, '--role', 'remote']).code, 0);
  const command = productSshCommand(site, fakeSshEnv());
  t.deepEqual(command.slice(-7, -3), ['-o', 'BatchMode=yes', '-p', '2222'], command.join(' '));
  const client = new WireClient({command});
  t.teardown(() => client.child.kill('SIGKILL'));
  const welcome = await client.hello();
  t.is(welcome.site.role, 'remote');
  client.bye();
  t.is((await client.exited).code, 0);
});

test.serial('fake-ssh into a remote machine reaches an agent whose site exists only inside it', async t => {
  const machine = await remoteMachine(t);
  const site = path.join(machine.dir, 'osaka');
  machine.marklogJson(['site', 'init', site, '--role', 'remote']);
  const client = new WireClient({command: productSshCommand(site, fakeSshEnv(machine))});
  t.teardown(() => client.child.kill('SIGKILL'));
  t.is((await client.hello()).site.role, 'remote');
  client.bye();
  t.is((await client.exited).code, 0);

  const outside = new WireClient({command: productSshCommand(site, fakeSshEnv())});
  t.teardown(() => outside.child.kill('SIGKILL'));
  // Its input ended at once, an agent that did find a site would end too, and not hang the test.
  outside.endInput();
  const exit = await outside.exited;
  t.is(exit.code, 3, 'the same command line run here finds no site');
  t.deepEqual(fs.readdirSync(machine.dir), []);
});

test.after.always('the machines leave no namespace, process, nft table or qdisc behind', t => {
  t.deepEqual(leftovers(), []);
  const tables = spawnSync(NFT, ['list', 'tables'], {encoding: 'utf8'});
  t.is(tables.status, 0, tables.stderr);
  t.notRegex(tables.stdout, /marklog_link/);
  const qdiscs = spawnSync('tc', ['qdisc', 'show'], {encoding: 'utf8'});
  t.is(qdiscs.status, 0, qdiscs.stderr);
  t.notRegex(qdiscs.stdout, /tbf/);
});
