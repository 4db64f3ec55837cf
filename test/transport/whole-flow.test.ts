// The whole flow (issue 15, item 6) through the real CLI with the remote behind each
// transport: pair create, logging with marks, restores at marks, a restore onto the
// M-VOLs, takeover, writes at the remote, failback and the swap back, then verify
// at both sites; the drill itself is test/helpers/wire-drill.ts, the same steps and
// assertions for every transport. The remote is reached (a) by the child-process
// agent over pipes (fake-ssh as MARKLOG_SSH), (b) by OpenSSH to sshd on loopback with
// a throwaway key, (c) over mutual TLS on loopback, and (d) on another "machine"
// (remote-machine.ts): its own network and mount namespaces, its directory visible
// only inside it, reached over TLS on a veth pair from a primary in a third
// namespace; there every remote-side command runs inside the machine, and the
// remote's directory stays empty from here, so the primary never touched its files.
// The way back (a restore onto the M-VOLs, a write at the remote after failback) is
// --peer-address ssh://, an agent on the primary's directory started with fake-ssh
// (inside the machine in (d): the primary's directory is on the shared file system);
// the way back over TLS is test/takeover/way-back-tls.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {listeningAgent} from '../helpers/agent-tls.js';
import {BIN} from '../helpers/cli.js';
import {fakeSshEnv} from '../helpers/fake-ssh-env.js';
import {leftovers, remoteMachine} from '../helpers/remote-machine.js';
import {tempDir} from '../helpers/sites.js';
import {sshServer} from '../helpers/sshd.js';
import {makeCertificates, type Certificates} from '../helpers/tls-certs.js';
import {wireDrill} from '../helpers/wire-drill.js';
import {commandsUnder} from '../helpers/wrapped-commands.js';

function tlsFlags(certs: Certificates): string[] {
  return ['--tls-cert', certs.client.cert, '--tls-key', certs.client.key, '--tls-ca', certs.client.ca];
}

/** The primary and the remote as two directories of this machine, their commands run here. */
function sitesHere(t: import('ava').ExecutionContext) {
  const root = tempDir(t);
  const here = commandsUnder(t, []);
  return {root, here, P: path.join(root, 'tokyo'), R: path.join(root, 'osaka'), scratch: path.join(root, 'restores')};
}

test('the whole flow over the child-process agent on pipes (fake-ssh as MARKLOG_SSH): restores at marks exact, takeover, failback, M-VOL = R-VOL, verify clean at both sites', async t => {
  const {root, here, P, R, scratch} = sitesHere(t);
  const env = fakeSshEnv();
  const report = await wireDrill(t, {
    primary: {dir: P, at: here, env, scratch}, remote: {dir: R, at: here, env, scratch}, data: root,
    link: () => ['--remote', `ssh://osaka.example${R}`, '--peer-address', `ssh://tokyo.example${P}`],
  });
  t.log(JSON.stringify(report));
});

test('the whole flow over OpenSSH to sshd on 127.0.0.1 with a throwaway key, both ways: the same drill, every step as over a directory link', async t => {
  const {root, here, P, R, scratch} = sitesHere(t);
  const server = await sshServer(t);
  // ssh's options from sshd.ts (the key, the pinned host key), without its -p and login: the addresses carry those.
  const options = server.ssh.slice(0, -1).filter((_, i, all) => !(all[i] === '-p' || all[i - 1] === '-p'));
  const env = {MARKLOG_SSH: options.join(' '), MARKLOG_REMOTE_COMMAND: `${process.execPath} ${BIN}`};
  const at = `${server.user}@127.0.0.1:${server.port}`;
  const report = await wireDrill(t, {
    primary: {dir: P, at: here, env, scratch}, remote: {dir: R, at: here, env, scratch}, data: root,
    link: () => ['--remote', `ssh://${at}${R}`, '--peer-address', `ssh://${at}${P}`],
  });
  t.log(JSON.stringify(report));
});

test('the whole flow over mutual TLS on loopback to `marklog agent --listen`: the same drill, the way back over fake-ssh', async t => {
  const {root, here, P, R, scratch} = sitesHere(t);
  const certs = makeCertificates(t);
  const env = fakeSshEnv();
  const report = await wireDrill(t, {
    primary: {dir: P, at: here, env, scratch}, remote: {dir: R, at: here, env, scratch}, data: root,
    link: async () => {
      const agent = await listeningAgent(t, R, certs);
      return ['--remote', `tls://127.0.0.1:${agent.port}`, ...tlsFlags(certs), '--peer-address', `ssh://tokyo.example${P}`];
    },
  });
  t.log(JSON.stringify(report));
});

test('the whole flow with the remote on another machine (its own namespaces, over TLS on a veth pair): every remote-side command runs inside it, and its directory stays empty from here', async t => {
  const machine = await remoteMachine(t);
  const root = tempDir(t);
  const certs = makeCertificates(t, ['127.0.0.1', machine.address]);
  const P = path.join(root, 'tokyo');
  const R = path.join(machine.dir, 'osaka');
  // Inside the machine, fake-ssh runs the way back's agent there too, on the primary's directory (the shared file system).
  const report = await wireDrill(t, {
    primary: {dir: P, at: machine.primary, scratch: path.join(root, 'restores')},
    remote: {dir: R, at: machine, env: fakeSshEnv(), scratch: path.join(machine.dir, 'restores')},
    data: root,
    link: async () => {
      const agent = await listeningAgent(t, R, certs, `${machine.address}:0`, machine.wrap);
      return ['--remote', `tls://${machine.address}:${agent.port}`, ...tlsFlags(certs), '--peer-address', `ssh://tokyo.example${P}`];
    },
  });
  t.log(JSON.stringify(report));
  t.deepEqual(fs.readdirSync(machine.dir), [], 'from here the remote\'s directory is empty: the primary never touched its files');
  t.regex(machine.run(['ls', R]).stdout, /tables\.json/, 'while inside the machine the site is all there');
});

test('the way back must be said: without --peer-address a restore onto the M-VOLs is REMOTE_UNREACHABLE; --peer-address tls:// without the remote\'s --peer-tls-* files is refused at site link, since the remote would hold no certificate for it', async t => {
  const {here, P, R} = sitesHere(t);
  const env = fakeSshEnv();
  const json = (args: string[]) => here.marklogJson(args, {env});
  const failure = (args: string[]) => {
    const result = here.marklog([...args, '--json'], {env});
    return {exitCode: result.code, code: result.code === 0 ? 'SUCCEEDED' : JSON.parse(result.stdout).error.code};
  };
  json(['site', 'init', P, '--role', 'primary']);
  json(['site', 'init', R, '--role', 'remote']);
  json(['volume', 'create', '--site', P, '--size', '1M']);
  json(['volume', 'create', '--site', R, '--size', '1M']);
  json(['volume', 'create', '--site', R, '--size', '4M', '--pool']);
  const remote = `ssh://osaka.example${R}`;
  t.deepEqual(failure(['site', 'link', '--site', P, '--remote', remote, '--peer-address', 'tls://tokyo.example:7010']), {exitCode: 2, code: 'INVALID_ARGUMENT'});
  t.is(json(['site', 'show', '--site', P]).link, null, 'nothing was linked');
  t.deepEqual(json(['site', 'show', '--site', R]).pairs, []);

  json(['site', 'link', '--site', P, '--remote', remote]);
  json(['pair', 'create', '--site', P, '--mvol', '0', '--rvol', '0']);
  json(['log', 'start', '--site', P, '--pairs', '1', '--group', '1']);
  here.marklogJson(['write', '--site', P, '--vol', '0', '--offset', '0'], {env, input: 'before the mark'});
  const mark = json(['mark', '--site', P, '--group', '1']);
  const refused = here.marklog(['restore', '--site', R, '--group', '1', '--mark', String(mark.markId), '--to', 'mvol', '--force', '--json'], {env});
  t.is(refused.code, 6, refused.stdout);
  t.is(JSON.parse(refused.stdout).error.code, 'REMOTE_UNREACHABLE');
  t.regex(JSON.parse(refused.stdout).error.hint, /--peer-address ssh:\/\//);
  t.is(json(['log', 'status', '--site', R, '--group', '1']).groups[0].mode, 'LOG', 'the refused restore changed nothing');
});

test.after.always('the remote machine leaves no namespace or process behind', t => {
  t.deepEqual(leftovers(), []);
});
