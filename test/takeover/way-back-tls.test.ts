// The way back over TLS: a primary linked to a remote's `marklog agent --listen` over
// mutual TLS tells the remote to reach it back at an agent of its own, also listening
// with TLS (`site link --peer-address tls://… --peer-tls-cert --peer-tls-key
// --peer-tls-ca`, the remote's files). Through the real CLI: a restore onto the
// M-VOLs, takeover, failback (`pair resync --reverse`) and a write at the remote that
// reaches the M-VOL, bytes compared at both sites and verify clean at both; then every
// refusal of the flags and of the files, each leaving both sites' files as they were.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {listeningAgent, stopAgent, type ListeningAgent} from '../helpers/agent-tls.js';
import {cli, cliJson} from '../helpers/cli.js';
import {imagePath, snapshot, tempDir} from '../helpers/sites.js';
import {makeCertificates, type Certificates} from '../helpers/tls-certs.js';
import {wireDrill} from '../helpers/wire-drill.js';
import {commandsUnder} from '../helpers/wrapped-commands.js';

const KiB = 1024;
const SIZE = 1024 * KiB;

interface TlsSites {
  dir: string;
  primary: string;
  remote: string;
  certs: Certificates;
  /** The remote's agent, which the primary links to. */
  remoteAgent: ListeningAgent;
  /** The primary's agent: the way back. */
  primaryAgent: ListeningAgent;
}

/** Two sites with an M-VOL, an R-VOL and a pool volume for the log, and an agent listening with TLS on each. */
async function sitesWithAgents(t: ExecutionContext): Promise<TlsSites> {
  const dir = tempDir(t);
  const primary = path.join(dir, 'tokyo');
  const remote = path.join(dir, 'osaka');
  cliJson(['site', 'init', primary, '--role', 'primary']);
  cliJson(['site', 'init', remote, '--role', 'remote']);
  cliJson(['volume', 'create', '--site', primary, '--size', '1M']);
  cliJson(['volume', 'create', '--site', remote, '--size', '1M']);
  cliJson(['volume', 'create', '--site', remote, '--size', '4M', '--pool']);
  const certs = makeCertificates(t);
  const [remoteAgent, primaryAgent] = await Promise.all([listeningAgent(t, remote, certs), listeningAgent(t, primary, certs)]);
  return {dir, primary, remote, certs, remoteAgent, primaryAgent};
}

/** `site link`'s flags after --site: the remote over TLS with the primary's files, and the way back over TLS with the remote's. */
function linkFlags(sites: TlsSites, peerTls: string[] = wayBackFiles(sites.certs)): string[] {
  const {certs} = sites;
  return ['--remote', `tls://127.0.0.1:${sites.remoteAgent.port}`, '--tls-cert', certs.client.cert, '--tls-key', certs.client.key, '--tls-ca', certs.client.ca,
    '--peer-address', `tls://127.0.0.1:${sites.primaryAgent.port}`, ...peerTls];
}

/** The remote's files for the way back. On this one machine the remote's client certificate is the primary's too; the test CA signed both agents' certificates. */
function wayBackFiles(certs: Certificates): string[] {
  return ['--peer-tls-cert', certs.client.cert, '--peer-tls-key', certs.client.key, '--peer-tls-ca', certs.client.ca];
}

function write(site: string, ldev: number, offset: number, data: Buffer): {warnings: string[]} {
  return cliJson(['write', '--site', site, '--vol', String(ldev), '--offset', String(offset)], {input: data});
}

function volume(site: string, ldev: number): Buffer {
  return fs.readFileSync(imagePath(site, ldev));
}

function verifyClean(t: ExecutionContext, site: string, extra: string[] = []): void {
  const result = cli(['verify', '--site', site, ...extra]);
  t.is(result.code, 0, `verify ${site}: ${result.stdout}${result.stderr}`);
}

test('after takeover and failback over TLS, writes at the remote reach the M-VOL at the primary through the way back; a restore onto the M-VOL goes the same way', async t => {
  const sites = await sitesWithAgents(t);
  const {primary: P, remote: R, certs} = sites;
  // The host's view of the M-VOL: a base that is not zeros, then what each step writes.
  const mvol = crypto.randomBytes(SIZE);
  write(P, 0, 0, mvol);

  const linked = cliJson(['site', 'link', '--site', P, ...linkFlags(sites)]);
  t.is(linked.remote, `tls://127.0.0.1:${sites.remoteAgent.port}`);
  const peers = cliJson(['site', 'show', '--site', R]).peers;
  t.deepEqual(peers.map((p: {remote: string; tls: unknown}) => ({remote: p.remote, tls: p.tls})),
    [{remote: `tls://127.0.0.1:${sites.primaryAgent.port}`, tls: {cert: certs.client.cert, key: certs.client.key, ca: certs.client.ca}}], 'the remote keeps the way back and its files');
  t.true(cli(['site', 'show', '--site', R]).stdout.includes(`way back to tokyo: tokyo at tls://127.0.0.1:${sites.primaryAgent.port} (TLS: cert ${certs.client.cert}, key ${certs.client.key}, CA ${certs.client.ca})`));

  t.is(cliJson(['pair', 'create', '--site', P, '--mvol', '0', '--rvol', '0']).state, 'PAIR');
  cliJson(['log', 'start', '--site', P, '--pairs', '1', '--group', '1']);
  const step = (offset: number, length: number) => {
    const data = crypto.randomBytes(length);
    write(P, 0, offset, data);
    data.copy(mvol, offset);
  };
  step(64 * KiB + 512, 8 * KiB);
  const first = cliJson(['mark', '--site', P, '--group', '1']).markId;
  const atFirst = Buffer.from(mvol);
  step(3 * 64 * KiB, 4 * KiB);
  cliJson(['mark', '--site', P, '--group', '1']);

  // A restore onto the M-VOL: the remote writes the primary's volume through the way back.
  const restored = cliJson(['restore', '--site', R, '--group', '1', '--mark', String(first), '--to', 'mvol', '--force']);
  t.is(restored.volumes.length, 1);
  t.true(volume(P, 0).equals(atFirst), 'the M-VOL is back at the first mark');
  atFirst.copy(mvol);
  t.is(cliJson(['pair', 'resync', '--site', P, '--pair', '1']).state, 'PAIR');
  t.true(volume(R, 0).equals(mvol), 'the resync made the R-VOL the M-VOL again');
  cliJson(['log', 'start', '--site', P, '--pairs', '1', '--group', '1']);
  step(5 * 64 * KiB + 100, 4 * KiB);
  const last = cliJson(['mark', '--site', P, '--group', '1']).markId;

  // Takeover at the remote, hosts writing there; then failback from the primary.
  t.is(cliJson(['takeover', '--site', R, '--group', '1', '--mark', 'latest']).markId, last);
  const rvol = Buffer.from(mvol);
  const atRemote = (offset: number, length: number) => {
    const data = crypto.randomBytes(length);
    const result = write(R, 0, offset, data);
    data.copy(rvol, offset);
    return result;
  };
  atRemote(2 * 64 * KiB, 16 * KiB);
  const failback = cliJson(['pair', 'resync', '--site', P, '--pair', '1', '--reverse']);
  t.deepEqual([failback.state, failback.direction], ['PAIR', 'reverse']);
  t.true(volume(P, 0).equals(rvol), 'the failback brought the remote\'s writes to the M-VOL');

  // Reversed: a write at the remote reaches the M-VOL before it returns, over the TLS way back.
  t.deepEqual(atRemote(7 * 64 * KiB + 4 * KiB, 8 * KiB).warnings, [], 'the way back carried the write');
  t.true(volume(P, 0).equals(rvol), 'the M-VOL holds the remote\'s write');
  t.true(volume(R, 0).equals(rvol));
  verifyClean(t, P, ['--deep']);
  verifyClean(t, R);

  // Without the primary's agent there is no way back: the same write stays at the remote, tracked and warned of.
  await stopAgent(sites.primaryAgent);
  const unreached = atRemote(9 * 64 * KiB, 4 * KiB);
  t.true(unreached.warnings.length > 0, 'a write the way back could not carry is warned of');
  t.false(volume(P, 0).equals(rvol), 'and it did not reach the M-VOL: the way back was the primary\'s agent');
});

test('the whole drill (wire-drill.ts) over mutual TLS both ways: to the remote\'s agent, and back to the primary\'s', async t => {
  const root = tempDir(t);
  const here = commandsUnder(t, []);
  const P = path.join(root, 'tokyo');
  const R = path.join(root, 'osaka');
  const scratch = path.join(root, 'restores');
  const certs = makeCertificates(t);
  const report = await wireDrill(t, {
    primary: {dir: P, at: here, scratch}, remote: {dir: R, at: here, scratch}, data: root,
    link: async () => {
      const [remoteAgent, primaryAgent] = await Promise.all([listeningAgent(t, R, certs), listeningAgent(t, P, certs)]);
      return linkFlags({dir: root, primary: P, remote: R, certs, remoteAgent, primaryAgent});
    },
  });
  t.log(JSON.stringify(report));
});

/** Runs `site link` expecting a refusal: its exit code, error code and the one line it printed; both sites' files must be as they were. */
function refused(t: ExecutionContext, sites: TlsSites, flags: string[]): {exitCode: number; code: string; line: string} {
  const before = [snapshot(sites.primary), snapshot(sites.remote)];
  const human = cli(['site', 'link', '--site', sites.primary, ...flags]);
  const json = cli(['site', 'link', '--site', sites.primary, ...flags, '--json']);
  t.deepEqual([snapshot(sites.primary), snapshot(sites.remote)], before, `both sites unchanged after site link ${flags.join(' ')}`);
  const lines = human.stderr.split('\n').filter(Boolean);
  t.is(lines.length, 1, `one line: ${human.stderr}`);
  t.is(human.code, json.code);
  return {exitCode: json.code, code: JSON.parse(json.stdout).error.code, line: lines[0] ?? ''};
}

test('each bad way back is refused with one line naming its cause, and leaves both sites\' files byte-identical', async t => {
  const sites = await sitesWithAgents(t);
  const {certs, dir} = sites;
  const remote = ['--remote', `tls://127.0.0.1:${sites.remoteAgent.port}`, '--tls-cert', certs.client.cert, '--tls-key', certs.client.key, '--tls-ca', certs.client.ca];
  const tlsBack = ['--peer-address', `tls://127.0.0.1:${sites.primaryAgent.port}`];
  const check = (flags: string[], exitCode: number, code: string, cause: RegExp) => {
    const got = refused(t, sites, flags);
    t.deepEqual([got.exitCode, got.code], [exitCode, code], got.line);
    t.regex(got.line, cause);
  };

  const cases = () => {
    check([...remote, ...wayBackFiles(certs)], 2, 'INVALID_ARGUMENT', /--peer-tls-cert, --peer-tls-key, --peer-tls-ca are for a tls:\/\/ --peer-address, and the way back is not given/);
    check([...remote, '--peer-address', 'ssh://tokyo.example/srv/tokyo', '--peer-tls-ca', certs.client.ca], 2, 'INVALID_ARGUMENT', /--peer-tls-ca is for a tls:\/\/ --peer-address/);
    check([...remote, ...tlsBack], 2, 'INVALID_ARGUMENT', /needs --peer-tls-cert, --peer-tls-key, --peer-tls-ca: --peer-tls-cert, --peer-tls-key, --peer-tls-ca are missing/);
    check([...remote, ...tlsBack, '--peer-tls-cert', certs.client.cert, '--peer-tls-key', certs.client.key], 2, 'INVALID_ARGUMENT', /--peer-tls-ca is missing/);
    check([...remote, ...tlsBack, '--peer-tls-cert', 'osaka-cert.pem', '--peer-tls-key', certs.client.key, '--peer-tls-ca', certs.client.ca], 2, 'INVALID_ARGUMENT', /--peer-tls-cert "osaka-cert\.pem" is not an absolute path/);
    check([...remote, '--peer-address', 'tls://127.0.0.1', ...wayBackFiles(certs)], 2, 'INVALID_ARGUMENT', /names no port/);
    // Checked by the remote, which reads the files before it records them.
    const missing = path.join(dir, 'no-such-key.pem');
    check([...remote, ...tlsBack, '--peer-tls-cert', certs.client.cert, '--peer-tls-key', missing, '--peer-tls-ca', certs.client.ca], 10, 'TLS_FILE_UNREADABLE',
      new RegExp(`--peer-tls-key "${missing.replaceAll('/', '\\/').replaceAll('.', '\\.')}": no such file`));
    check([...remote, ...tlsBack, '--peer-tls-cert', certs.client.cert, '--peer-tls-key', certs.server.key, '--peer-tls-ca', certs.client.ca], 2, 'TLS_BAD_CREDENTIALS',
      /--peer-tls-key .* is not the key of the certificate in --peer-tls-cert/);
    check([...remote, ...tlsBack, '--peer-tls-cert', certs.client.cert, '--peer-tls-key', certs.client.key, '--peer-tls-ca', certs.client.cert], 2, 'TLS_BAD_CREDENTIALS',
      /--peer-tls-ca .* holds no CA certificate/);
  };
  cases();
  t.is(cliJson(['site', 'show', '--site', sites.primary]).link, null, 'the first link was never made');
  t.deepEqual(cliJson(['site', 'show', '--site', sites.remote]).peers, []);

  // Linked with a good way back, the same refusals keep the rows both sites hold.
  cliJson(['site', 'link', '--site', sites.primary, ...linkFlags(sites)]);
  cases();
  t.is(cliJson(['site', 'show', '--site', sites.remote]).peers[0].tls.key, certs.client.key, 'the way back recorded before is kept');
});

test('a way back whose file went away since it was recorded fails the restore onto the M-VOLs with one line naming the --peer-tls-* flag, and changes nothing', async t => {
  const sites = await sitesWithAgents(t);
  const {primary: P, remote: R, certs, dir} = sites;
  // The remote's own copy of its files, so removing one leaves the primary's link alone.
  const copies = Object.fromEntries((['cert', 'key', 'ca'] as const).map(name => {
    const copy = path.join(dir, `osaka-${name}.pem`);
    fs.copyFileSync(certs.client[name], copy);
    return [name, copy];
  }));
  cliJson(['site', 'link', '--site', P, ...linkFlags(sites, ['--peer-tls-cert', copies.cert, '--peer-tls-key', copies.key, '--peer-tls-ca', copies.ca])]);
  cliJson(['pair', 'create', '--site', P, '--mvol', '0', '--rvol', '0']);
  cliJson(['log', 'start', '--site', P, '--pairs', '1', '--group', '1']);
  write(P, 0, 0, crypto.randomBytes(4 * KiB));
  const mark = cliJson(['mark', '--site', P, '--group', '1']).markId;
  fs.rmSync(copies.cert);

  const before = [snapshot(P), snapshot(R)];
  const result = cli(['restore', '--site', R, '--group', '1', '--mark', String(mark), '--to', 'mvol', '--force']);
  t.is(result.code, 10, result.stderr);
  const lines = result.stderr.split('\n').filter(Boolean);
  t.is(lines.length, 1, result.stderr);
  t.true(lines[0].includes(`--peer-tls-cert ${JSON.stringify(copies.cert)}: no such file`), lines[0]);
  t.deepEqual([snapshot(P), snapshot(R)], before, 'the refused restore changed neither site');
});
