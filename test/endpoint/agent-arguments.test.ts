// Requests that would damage the remote site if they were taken as they come (docs/WIRE.md
// §7.1): arguments the site would store or log as they are, and LDEVs of its own log
// volumes. Each is refused (INVALID_ARGUMENT, VOLUME_IN_USE) or stored only as checked,
// and the site stays whole; a change to a log group's base is seen. Found while fuzzing
// the agent (test/fuzz/wire-agent.test.ts); the agent runs in this process on one end
// of a stream pair, as the TLS listener hands it a socket.
import path from 'node:path';
import {duplexPair} from 'node:stream';
import test, {type ExecutionContext} from 'ava';
import {Agent} from '../../src/endpoint/agent.js';
import {InvalidArgumentError, VolumeInUseError} from '../../src/errors.js';
import {initSite} from '../../src/site/site-admin.js';
import {Site} from '../../src/site/site.js';
import {verifySite} from '../../src/verify/verify.js';
import {createVolume} from '../../src/volume/volume-admin.js';
import {tempDir} from '../helpers/sites.js';
import {WireClient} from '../helpers/wire-client.js';

const MiB = 1024 * 1024;
const PRIMARY = 'e6c8da65d963855a';
const claim = {pair: 1, primarySite: PRIMARY, mvol: 4};

/** A remote site with an R-VOL and a pool volume, and a client whose agent has reserved the R-VOL. */
async function reservedRemote(t: ExecutionContext): Promise<{dir: string; rvol: number; client: WireClient}> {
  const dir = path.join(tempDir(t), 'osaka');
  initSite({dir, role: 'remote'});
  const site = Site.open(dir);
  const rvol = createVolume(site, MiB).ldev;
  createVolume(site, MiB, true);
  site.close();
  const [near, far] = duplexPair();
  const agent = new Agent({site: dir, connection: far});
  // A client ends its side once the agent has ended its own.
  near.on('end', () => near.end());
  const client = new WireClient(near);
  t.teardown(async () => {
    client.bye();
    await agent.done;
  });
  await client.hello();
  await client.call('reserveRvol', {ldev: rvol, claim, minCapacity: MiB});
  return {dir, rvol, client};
}

function tablesOf(dir: string) {
  const site = Site.open(dir);
  try {
    return site.tables();
  } finally {
    site.close();
  }
}

test('a log group member with a fractional M-VOL is refused, and the tables still load', async t => {
  const {dir, rvol, client} = await reservedRemote(t);
  const error = await t.throwsAsync(client.call('prepareLogGroup', {request: {primarySite: PRIMARY, members: [{rvol, mvol: 4.5, pair: 1}]}}), {instanceOf: InvalidArgumentError});
  t.regex(error!.message, /request\.members\.0\.mvol/);
  t.deepEqual(tablesOf(dir).groups, []);
});

test('a log group member is stored as its three numbers, whatever else the request carries', async t => {
  const {dir, rvol, client} = await reservedRemote(t);
  await client.call('prepareLogGroup', {request: {primarySite: PRIMARY, members: [{rvol, mvol: 4, pair: 1, note: {any: 'thing'}}]}});
  t.deepEqual(tablesOf(dir).groups[0].members, [{rvol, mvol: 4, pair: 1}]);
});

/** The R-VOL's log group, in log mode. */
async function loggingRemote(t: ExecutionContext): Promise<{dir: string; rvol: number; group: number; client: WireClient}> {
  const remote = await reservedRemote(t);
  const {result} = await remote.client.call<{group: number}>('prepareLogGroup', {request: {primarySite: PRIMARY, members: [{rvol: remote.rvol, mvol: claim.mvol, pair: claim.pair}]}});
  return {...remote, group: result.group};
}

async function verifyFindings(dir: string): Promise<string[]> {
  return (await verifySite(dir)).findings.map(f => `${f.check}: ${f.message}`);
}

test('a log entry for an LDEV above 2^32 - 1, which no log record holds, is refused', async t => {
  const {group, client} = await loggingRemote(t);
  const error = await t.throwsAsync(client.call('appendToLog', {group, entries: [{kind: 'zero', ldev: 2 ** 32, address: 0, length: 512}]}), {instanceOf: InvalidArgumentError});
  t.regex(error!.message, /2\^32 - 1/);
});

test('an empty write or zero entry, which no log record holds, is refused and the log stays readable', async t => {
  const {dir, rvol, group, client} = await loggingRemote(t);
  for (const entry of [{kind: 'write', ldev: rvol, address: 0, length: 0}, {kind: 'zero', ldev: rvol, address: 512, length: 0}]) {
    await t.throwsAsync(client.call('appendToLog', {group, entries: [entry]}), {instanceOf: InvalidArgumentError}, entry.kind);
  }
  t.deepEqual(await verifyFindings(dir), []);
});

test('a mark entry whose application name is longer than a mark record holds is refused and the log stays readable', async t => {
  const {dir, group, client} = await loggingRemote(t);
  await t.throwsAsync(client.call('appendToLog', {group, entries: [{kind: 'mark', markId: 1, markTime: 1_743_498_000_000_000, app: 'é'.repeat(128)}]}), {instanceOf: InvalidArgumentError});
  t.deepEqual(await verifyFindings(dir), []);
});

test('a write, a zero or an image naming a log volume or a pool volume is refused, and the log stays readable', async t => {
  const {dir, group, client} = await loggingRemote(t);
  const site = Site.open(dir);
  const logVolume = site.tables().groups.find(g => g.group === group)!.logVolumes[0];
  const pool = createVolume(site, MiB, true).ldev;
  site.close();
  for (const ldev of [logVolume, pool]) {
    const data = Buffer.alloc(512, 0xee);
    for (const [method, args, binary] of [
      ['writeRvol', {ldev, offset: 0}, data], ['writeRvolFrom', {ldev, offset: 4096, length: 512}, data], ['zeroRvol', {ldev, offset: 0, length: 8192}, undefined],
      ['receiveImageBegin', {ldev, force: true}, undefined],
    ] as const) {
      await t.throwsAsync(client.call(method, args, binary), {instanceOf: VolumeInUseError}, `${method} on LDEV ${ldev}`);
    }
  }
  t.deepEqual(await verifyFindings(dir), []);
});

test('a claim is stored as its three members: one carrying a takeover of its own neither damages the tables nor takes the R-VOL over', async t => {
  const {dir, client} = await reservedRemote(t);
  const site = Site.open(dir);
  const spare = createVolume(site, MiB).ldev;
  const other = createVolume(site, MiB).ldev;
  site.close();
  await client.call('reserveRvol', {ldev: spare, claim: {pair: 2, primarySite: PRIMARY, mvol: 5, takeover: 5}, minCapacity: MiB});
  await client.call('reserveRvol', {ldev: other, claim: {pair: 3, primarySite: PRIMARY, mvol: 6, takeover: {since: 'now', bitmap: 'pairs/forged.bitmap'}, direction: 'reverse'}, minCapacity: MiB});
  const rows = tablesOf(dir).volumes;
  t.deepEqual(rows.find(v => v.ldev === spare)!.rvolOf, {pair: 2, primarySite: PRIMARY, mvol: 5});
  t.deepEqual(rows.find(v => v.ldev === other)!.rvolOf, {pair: 3, primarySite: PRIMARY, mvol: 6});
  await client.call('writeRvol', {ldev: other, offset: 0}, Buffer.alloc(512, 1));
});

test('an image committed onto the R-VOL a log group\'s log starts from changes that base visibly, as a write does (verify: base-changed)', async t => {
  const {dir, rvol, client} = await loggingRemote(t);
  const {result} = await client.call<{transfer: string}>('receiveImageBegin', {ldev: rvol, force: true});
  await client.call('receiveImageChunk', {transfer: result.transfer, offset: 0}, Buffer.alloc(4096, 7));
  await client.call('receiveImageCommit', {transfer: result.transfer, force: true});
  t.deepEqual((await verifySite(dir)).findings.map(f => f.check), ['base-changed']);
});

test('a peer is stored as the four members of a link row, whatever else the request carries', async t => {
  const {dir, client} = await reservedRemote(t);
  const peer = {remote: '/srv/sites/tokyo', siteId: PRIMARY, name: 'tokyo', linked: '2025-04-01T09:00:00.000Z'};
  await client.call('registerPeer', {peer: {...peer, role: 'primary'}});
  t.deepEqual(tablesOf(dir).peers, [peer]);
});

test('a peer\'s TLS files are refused unless whole, absolute and for a tls:// way back, and nothing is stored', async t => {
  const {dir, client} = await reservedRemote(t);
  const peer = {remote: 'tls://tokyo.example:7010', siteId: PRIMARY, name: 'tokyo', linked: '2025-04-01T09:00:00.000Z'};
  const before = tablesOf(dir).peers;
  const refusal = async (sent: object, message: RegExp) => {
    const error = await t.throwsAsync(client.call('registerPeer', {peer: sent}), {instanceOf: InvalidArgumentError});
    t.regex(error!.message, message);
  };
  await refusal({...peer, tls: {key: 'x'}}, /peer\.tls\.cert/);
  await refusal({...peer, tls: {cert: 'cert.pem', key: '/k.pem', ca: '/ca.pem'}}, /--peer-tls-cert "cert\.pem" is not an absolute path/);
  await refusal({...peer, remote: '/srv/sites/tokyo', tls: {cert: '/c.pem', key: '/k.pem', ca: '/ca.pem'}}, /are for a tls:\/\/ --peer-address/);
  await refusal(peer, /needs --peer-tls-cert/);
  t.deepEqual(tablesOf(dir).peers, before);
});
