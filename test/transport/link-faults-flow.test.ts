// A bad link between two machines under a host's writes (issue 15, item 6): the
// remote in a machine of its own (remote-machine.ts: network and mount namespaces, its
// directory visible only inside it) running `marklog agent --listen` over TLS, the
// primary in another network namespace running `marklog serve`, and a host (in this
// process, over serve's Unix socket) with many writes in flight. The link then fails
// as links do (link-faults.ts): the agent killed mid-stream, a partition that drops
// every packet and then heals, 5 % random loss, a 2 MB/s rate limit. Whatever
// happens, every write the host had acknowledged is on the M-VOL; where the link
// failed the pair is PSUE with the missed chunks in its bitmap, and `pair resync`
// once the link is back makes the R-VOL identical; where it only got worse the pair
// stays PAIR and the R-VOL is identical without one. In log mode, marks taken before
// the fault restore exactly at the remote and the lost write is the one finding
// both sites report, until a new base. MARKLOG_LINK_FAULT_CYCLES repeats the kill and
// the partition that many times (npm run soak).
import fs from 'node:fs';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {listeningAgent, type ListeningAgent} from '../helpers/agent-tls.js';
import {linkFaults, type LinkFaults} from '../helpers/link-faults.js';
import {digest} from '../helpers/logging.js';
import {ModelHost} from '../helpers/nbd-host.js';
import {sleep} from '../helpers/processes.js';
import {leftovers, remoteMachine, type RemoteMachine} from '../helpers/remote-machine.js';
import {serve, stopServe, type Served} from '../helpers/serve.js';
import {imagePath, tempDir} from '../helpers/sites.js';
import {waitFor} from '../helpers/wait.js';
import {makeCertificates, type Certificates} from '../helpers/tls-certs.js';

const MB = 1_000_000;
const CYCLES = Math.max(1, Number(process.env.MARKLOG_LINK_FAULT_CYCLES ?? 1));
const BURST = 32;

interface Rig {
  machine: RemoteMachine;
  faults: LinkFaults;
  P: string;
  R: string;
  served: Served;
  host: ModelHost;
  /** The agent now serving the remote (a new one after restartAgent). */
  agent: ListeningAgent;
  restartAgent(): Promise<void>;
  /** marklog --json in the primary's namespace. */
  primary<T = any>(args: string[]): Promise<T>;
  /** marklog --json inside the remote machine. */
  remote<T = any>(args: string[]): Promise<T>;
  pair(): Promise<{state: string; dirtyChunks: number}>;
  /** Why the primary's tables say the pair is suspended. */
  suspendedBy(): string | null;
  mvolDigest(): string;
  /** The R-VOL's digest, computed inside the remote machine. */
  rvolDigest(): Promise<string>;
  /** The digest of a file inside the remote machine. */
  remoteDigest(file: string): Promise<string>;
  verify(): Promise<{primary: {code: number; output: string}; remote: {code: number; output: string}}>;
}

interface RigOptions {
  /** Log mode: a pool volume at the remote and the pair in log group 1. */
  log?: boolean;
  /** serve's MARKLOG_LINK_TIMEOUT_MS; its default (30 s) when absent. */
  timeoutMs?: number;
}

function tlsFlags(certs: Certificates): string[] {
  return ['--tls-cert', certs.client.cert, '--tls-key', certs.client.key, '--tls-ca', certs.client.ca];
}

async function faultRig(t: ExecutionContext, options: RigOptions = {}): Promise<Rig> {
  const machine = await remoteMachine(t);
  const faults = linkFaults(t, machine);
  const root = tempDir(t);
  const certs = makeCertificates(t, ['127.0.0.1', machine.address]);
  const P = path.join(root, 'tokyo');
  const R = path.join(machine.dir, 'osaka');
  const primary = <T>(args: string[]) => machine.primary.marklogJsonAsync<T>(args);
  const remote = <T>(args: string[]) => machine.marklogJsonAsync<T>(args);
  await remote(['site', 'init', R, '--role', 'remote']);
  await remote(['volume', 'create', '--site', R, '--size', '16M']);
  if (options.log) await remote(['volume', 'create', '--site', R, '--size', '8M', '--pool']);
  await primary(['site', 'init', P, '--role', 'primary']);
  await primary(['volume', 'create', '--site', P, '--size', '16M']);

  const startAgent = (port: number) => listeningAgent(t, R, certs, `${machine.address}:${port}`, machine.wrap);
  let agent = await startAgent(0);
  const port = agent.port;
  await primary(['site', 'link', '--site', P, '--remote', `tls://${machine.address}:${port}`, ...tlsFlags(certs)]);
  await primary(['pair', 'create', '--site', P, '--mvol', '0', '--rvol', '0']);
  if (options.log) await primary(['log', 'start', '--site', P, '--pairs', '1', '--group', '1']);

  const socket = path.join(root, 'serve.sock');
  const served = await serve(t, P, ['--socket', socket], {
    listen: null, wrap: machine.primary.wrap,
    env: {MARKLOG_LINK_RETRIES: '0', ...(options.timeoutMs === undefined ? {} : {MARKLOG_LINK_TIMEOUT_MS: String(options.timeoutMs)})},
  });
  const host = await ModelHost.connect(socket, '0', {seed: 6});
  t.teardown(() => host.client.disconnect().catch(() => {}));
  const remoteDigest = async (file: string) => {
    const result = await machine.runAsync(['sha256sum', file]);
    if (result.code !== 0) throw new Error(`sha256sum ${file} in the remote machine: ${result.stderr}`);
    return result.stdout.split(' ')[0];
  };
  const verifyAt = async (where: typeof machine.primary, site: string, extra: string[]) => {
    const result = await where.marklogAsync(['verify', '--site', site, ...extra]);
    return {code: result.code, output: result.stdout + result.stderr};
  };
  const built: Rig = {
    machine, faults, P, R, served, host, agent, primary, remote, remoteDigest,
    async restartAgent() {
      await built.agent.done.catch(() => {});
      agent = await startAgent(port);
      built.agent = agent;
    },
    async pair() {
      return (await primary<{pairs: {state: string; dirtyChunks: number}[]}>(['pair', 'display', '--site', P])).pairs[0];
    },
    suspendedBy() {
      return JSON.parse(fs.readFileSync(path.join(P, 'tables.json'), 'utf8')).pairs[0].suspendedBy ?? null;
    },
    mvolDigest: () => digest(fs.readFileSync(imagePath(P, 0))),
    rvolDigest: () => remoteDigest(imagePath(R, 0)),
    async verify() {
      return {primary: await verifyAt(machine.primary, P, ['--deep']), remote: await verifyAt(machine, R, [])};
    },
  };
  return built;
}

/** `pair resync` in the primary's namespace, and how long it took. */
async function resync(rig: Rig): Promise<{state: string; copiedBytes: number; ms: number}> {
  const started = Date.now();
  const result = await rig.primary<{state: string; copiedBytes: number}>(['pair', 'resync', '--site', rig.P, '--pair', '1']);
  return {...result, ms: Date.now() - started};
}

/** The end of every case: serve stopped, M-VOL and R-VOL both the host's model, verify clean at both sites. */
async function identicalAndClean(t: ExecutionContext, rig: Rig): Promise<void> {
  t.not(await stopServe(rig.served), 'hung');
  const model = digest(rig.host.model);
  t.is(rig.mvolDigest(), model, `the M-VOL holds all ${rig.host.acknowledged} acknowledged writes`);
  t.is(await rig.rvolDigest(), model, 'and the R-VOL is identical to it');
  const verified = await rig.verify();
  t.is(verified.primary.code, 0, verified.primary.output);
  t.is(verified.remote.code, 0, verified.remote.output);
  t.deepEqual(fs.readdirSync(rig.machine.dir), [], 'the remote\'s directory is empty from here: only the agent wrote it');
}

test('the agent SIGKILLed mid-stream: every acknowledged write is on the M-VOL, the pair is PSUE with its chunks set, and resync once the agent is back makes the R-VOL identical', async t => {
  const rig = await faultRig(t, {timeoutMs: 1500});
  await rig.host.bursts(2, BURST);
  t.is((await rig.pair()).state, 'PAIR', 'the writes so far replicated');
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    const bursts = rig.host.bursts(20, BURST);
    await sleep(100);
    rig.agent.child.kill('SIGKILL');
    await bursts;
    // Whether or not the kill caught writes in flight, these find the agent gone.
    await rig.host.burst(BURST);
    const broken = await rig.pair();
    t.is(broken.state, 'PSUE', `cycle ${cycle}: the pair is suspended by the error`);
    t.is(rig.suspendedBy(), 'REMOTE_UNREACHABLE');
    t.true(broken.dirtyChunks > 0, 'the writes the R-VOL may have missed are tracked');
    t.is(rig.mvolDigest(), digest(rig.host.model), `all ${rig.host.acknowledged} acknowledged writes are on the M-VOL`);
    // Writes go on while the remote is away (tracked), then the agent comes back on the same port.
    await rig.host.bursts(2, BURST);
    await rig.restartAgent();
    const resynced = await resync(rig);
    t.is(resynced.state, 'PAIR');
    await rig.host.bursts(2, BURST);
    t.is((await rig.pair()).state, 'PAIR', 'serve\'s link connected again by itself');
    if (cycle === 1 || cycle === CYCLES) t.log(`agent killed, cycle ${cycle}: ${rig.host.acknowledged} writes acknowledged, ${broken.dirtyChunks} dirty chunks, resync ${resynced.copiedBytes} bytes in ${resynced.ms} ms`);
  }
  await identicalAndClean(t, rig);
});

test('a partition that drops every packet, then heals: writes stall for the link timeout (1.5 s), go on tracked under PSUE, and resync after healing makes the R-VOL identical', async t => {
  const rig = await faultRig(t, {timeoutMs: 1500});
  await rig.host.bursts(2, BURST);
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    const bursts = rig.host.bursts(10, BURST);
    await sleep(100);
    rig.faults.partition('drop');
    const stalled = Date.now();
    await bursts;
    // Whether or not the partition caught writes in flight, these meet it.
    await rig.host.burst(BURST);
    const waited = Date.now() - stalled;
    const broken = await rig.pair();
    t.is(broken.state, 'PSUE', `cycle ${cycle}: the timeout took the link as lost`);
    t.is(rig.suspendedBy(), 'REMOTE_UNREACHABLE');
    t.true(broken.dirtyChunks > 0);
    t.true(waited >= 1400, `the writes in flight waited out the timeout: ${waited} ms`);
    t.true(rig.faults.counts().partitioned > 0, rig.faults.describe());
    t.is(rig.mvolDigest(), digest(rig.host.model), `all ${rig.host.acknowledged} acknowledged writes are on the M-VOL`);

    rig.faults.heal();
    const resynced = await resync(rig);
    t.is(resynced.state, 'PAIR');
    await rig.host.bursts(2, BURST);
    t.is((await rig.pair()).state, 'PAIR', 'serve replicates again after the heal');
    if (cycle === 1 || cycle === CYCLES) t.log(`partition, cycle ${cycle}: ${rig.host.acknowledged} writes acknowledged, stalled ${waited} ms, ${broken.dirtyChunks} dirty chunks, resync ${resynced.copiedBytes} bytes in ${resynced.ms} ms`);
  }
  await identicalAndClean(t, rig);
});

/** The primary's TCP sockets to the agent: local port, state and bytes not yet acknowledged (ss in the primary's namespace). */
function socketsToAgent(rig: Rig): {port: number; state: string; sendQ: number}[] {
  const listed = rig.machine.primary.run(['ss', '-tanH', 'dst', `${rig.machine.address}:${rig.agent.port}`]);
  if (listed.code !== 0) throw new Error(`ss: ${listed.stderr}`);
  return listed.stdout.trim().split('\n').filter(Boolean).map(line => {
    const [state, , sendQ, local] = line.trim().split(/\s+/);
    return {port: Number(local.split(':').at(-1)), state, sendQ: Number(sendQ)};
  });
}

test('writes serve gave up on under a stalled connection are never applied after the resync: once the link heals, that connection\'s bytes do not reach the R-VOL', async t => {
  const rig = await faultRig(t, {timeoutMs: 1500});
  const blocks = Array.from({length: BURST}, (_, i) => i * 16);
  await rig.host.writeBlocks(blocks);
  const [serving] = socketsToAgent(rig).filter(socket => socket.state === 'ESTAB');
  t.truthy(serving, 'serve keeps its connection to the agent');
  // Only serve's connection stalls: its writes wait out the timeout, and are tracked under PSUE.
  rig.faults.stall(serving.port);
  await rig.host.writeBlocks(blocks);
  t.is((await rig.pair()).state, 'PSUE');
  // The same blocks again, newer bytes, while the old ones are still held in the stalled connection.
  await rig.host.writeBlocks(blocks);
  const resynced = await resync(rig);
  t.is(resynced.state, 'PAIR', 'other connections pass: the resync copies the tracked chunks');
  t.is(await rig.rvolDigest(), digest(rig.host.model), 'right after the resync the R-VOL is the M-VOL');

  rig.faults.heal();
  await waitFor(() => !socketsToAgent(rig).some(socket => socket.port === serving.port && socket.sendQ > 0),
    {what: 'the stalled connection to deliver or drop what it held', timeoutMs: 20_000, seen: () => JSON.stringify(socketsToAgent(rig))});
  await sleep(500);
  t.is(await rig.rvolDigest(), digest(rig.host.model), 'the writes given up on did not land on the R-VOL after it');
  t.log(`stalled connection: ${rig.host.acknowledged} writes acknowledged, resync ${resynced.copiedBytes} bytes in ${resynced.ms} ms`);
  await rig.host.bursts(2, BURST);
  t.is((await rig.pair()).state, 'PAIR');
  await identicalAndClean(t, rig);
});

test('5 % random loss for the whole of the writes: TCP retransmits what nft drops, the pair stays PAIR and the R-VOL is identical without a resync', async t => {
  const rig = await faultRig(t);
  rig.faults.randomLoss(5);
  const started = Date.now();
  await rig.host.bursts(16, BURST);
  const ms = Date.now() - started;
  const {lost} = rig.faults.counts();
  t.true(lost > 0, rig.faults.describe());
  const state = await rig.pair();
  t.is(state.state, 'PAIR');
  t.is(state.dirtyChunks, 0);
  t.log(`5 % loss: ${rig.host.acknowledged} writes acknowledged in ${ms} ms, ${lost} packets dropped, pair ${state.state}, ${state.dirtyChunks} dirty chunks`);
  rig.faults.clear();
  await identicalAndClean(t, rig);
});

test('a 2 MB/s link (tbf): synchronous replication runs at the link\'s rate, the pair stays PAIR and the R-VOL is identical without a resync', async t => {
  const rig = await faultRig(t);
  const free = Date.now();
  await rig.host.bursts(4, BURST);
  const freeMs = Date.now() - free;
  rig.faults.rateLimit(2 * MB);
  const before = rig.host.bytes;
  const started = Date.now();
  await rig.host.bursts(16, BURST);
  const ms = Date.now() - started;
  const bytes = rig.host.bytes - before;
  // The bucket (200 kB) passes at once; the rest at 2 MB/s.
  t.true(ms >= ((bytes - 200_000) / (2 * MB)) * 1000 * 0.9, `${bytes} bytes in ${ms} ms`);
  const state = await rig.pair();
  t.is(state.state, 'PAIR');
  t.is(state.dirtyChunks, 0);
  t.log(`2 MB/s: ${bytes} bytes of writes in ${ms} ms (${Math.round(bytes / ms / 1000 * 10) / 10} MB/s; unlimited, ${BURST * 4 * 4096} bytes in ${freeMs} ms), pair ${state.state}`);
  rig.faults.clear();
  await identicalAndClean(t, rig);
});

test('log mode (Fig. 16) through a partition: marks before it restore exactly inside the remote machine, the lost write is the one finding both sites report, and resync and a new base end clean', async t => {
  const rig = await faultRig(t, {log: true, timeoutMs: 1500});
  const marks: {markId: number; image: Buffer}[] = [];
  for (let i = 0; i < 2; i++) {
    await rig.host.bursts(3, BURST);
    // Every write before it acknowledged: a consistent point.
    const mark = await rig.primary<{markId: number}>(['mark', '--site', rig.P, '--group', '1', '--app', 'db']);
    marks.push({markId: mark.markId, image: rig.host.snapshot()});
  }
  const bursts = rig.host.bursts(6, BURST);
  await sleep(100);
  rig.faults.partition('drop');
  await bursts;
  await rig.host.burst(BURST);
  const broken = await rig.pair();
  t.is(broken.state, 'PSUE');
  t.is(rig.suspendedBy(), 'REMOTE_UNREACHABLE');
  t.is(rig.mvolDigest(), digest(rig.host.model), `all ${rig.host.acknowledged} acknowledged writes are on the M-VOL`);
  rig.faults.heal();

  const refused = await rig.machine.primary.marklogAsync(['mark', '--site', rig.P, '--group', '1', '--json']);
  t.is(refused.code, 7, `a mark after writes the log never got would not be a consistent point: ${refused.stdout}${refused.stderr}`);
  t.is(JSON.parse(refused.stdout).error.code, 'LOG_GAP');
  for (const mark of marks) {
    const to = path.join(rig.machine.dir, `mark-${mark.markId}.img`);
    await rig.remote(['restore', '--site', rig.R, '--group', '1', '--mark', String(mark.markId), '--to', to]);
    t.is(await rig.remoteDigest(to), digest(mark.image), `mark ${mark.markId} restores exactly`);
  }
  const gap = await rig.verify();
  t.is(gap.remote.code, 9, gap.remote.output);
  t.regex(gap.remote.output, /\[log-gap\] log group 1: a write of pair 1 .* never reached the log \(REMOTE_UNREACHABLE\)/);
  t.regex(gap.remote.output, /^1 finding\(s\)/m, 'and nothing else is wrong at the remote');
  t.is(gap.primary.code, 9, gap.primary.output);
  t.regex(gap.primary.output, /\[log-gap\]/);
  t.regex(gap.primary.output, /^1 finding\(s\)/m, 'nor at the primary');

  // What verify advises at both sites: stop the group, resync, a new base.
  for (const output of [gap.primary.output, gap.remote.output]) t.regex(output, /log stop --site \S+ --group 1`, then `marklog pair resync --site \S+ --pair 1`, then `marklog log start/);
  await rig.primary(['log', 'stop', '--site', rig.P, '--group', '1']);
  const resynced = await resync(rig);
  t.is(resynced.state, 'PAIR');
  t.is(await rig.rvolDigest(), digest(rig.host.model), 'the resync made the R-VOL the M-VOL');
  await rig.primary(['log', 'start', '--site', rig.P, '--pairs', '1', '--group', '1']);
  await rig.host.bursts(2, BURST);
  const after = await rig.primary<{markId: number}>(['mark', '--site', rig.P, '--group', '1', '--app', 'db']);
  const to = path.join(rig.machine.dir, 'after.img');
  await rig.remote(['restore', '--site', rig.R, '--group', '1', '--mark', String(after.markId), '--to', to]);
  t.is(await rig.remoteDigest(to), digest(rig.host.model), 'a mark on the new base restores exactly');
  await rig.machine.runAsync(['rm', '-f', to, ...marks.map(mark => path.join(rig.machine.dir, `mark-${mark.markId}.img`))]);
  t.log(`log mode: ${rig.host.acknowledged} writes acknowledged, ${broken.dirtyChunks} dirty chunks, resync ${resynced.copiedBytes} bytes in ${resynced.ms} ms`);
  t.not(await stopServe(rig.served), 'hung');
  t.is(rig.mvolDigest(), digest(rig.host.model));
  const verified = await rig.verify();
  t.is(verified.primary.code, 0, verified.primary.output);
  t.is(verified.remote.code, 0, verified.remote.output);
  t.deepEqual(fs.readdirSync(rig.machine.dir), []);
});

test.after.always('the machines leave no namespace or process behind', t => {
  t.deepEqual(leftovers(), []);
});
