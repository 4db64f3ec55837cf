// Bad input to `marklog serve`: each is one line naming its cause and a non-zero exit
// from the table in docs/ERRORS.md, before anything listens, and nothing changes on
// disk. The same causes in-process are the typed errors of src/errors.ts.
import {spawnSync} from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test from 'ava';
import {
  InvalidArgumentError, NotASocketError, PlaintextListenError, SocketInUseError, TlsCredentialsError, TlsFileError, TlsFlagsError,
} from '../../src/errors.js';
import {serveNbd} from '../../src/nbd/nbd-server.js';
import {serveOptions} from '../../src/nbd/serve-run.js';
import {loadTlsCredentials} from '../../src/nbd/tls.js';
import {Site} from '../../src/site/site.js';
import {BIN, cli, cliJson} from '../helpers/cli.js';
import {serve} from '../helpers/serve.js';
import {createVolume, tempDir} from '../helpers/sites.js';
import {makeCertificates} from '../helpers/tls-certs.js';

/** Every path under `dir` with a digest of its contents (a socket or directory by its kind). */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (at: string) => {
    for (const entry of fs.readdirSync(at, {withFileTypes: true})) {
      const full = path.join(at, entry.name);
      const name = path.relative(dir, full);
      if (entry.isDirectory()) {
        out[name] = 'dir';
        walk(full);
      } else out[name] = entry.isFile() ? crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex') : 'other';
    }
  };
  walk(dir);
  return out;
}

const NOBODY = 65534;

function chownTree(dir: string, id: number): void {
  fs.chownSync(dir, id, id);
  for (const entry of fs.readdirSync(dir, {withFileTypes: true})) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(full, id);
    else fs.chownSync(full, id, id);
  }
}

test('each bad serve command line is one line naming its cause, exits with its code from ERRORS.md, listens nowhere and changes nothing on disk', async t => {
  const root = tempDir(t);
  const site = path.join(root, 'primary');
  cliJson(['site', 'init', site, '--role', 'primary']);
  createVolume(site, '1M');
  const certs = makeCertificates(t);
  const {cert, key, ca} = certs.server;
  const garbage = path.join(root, 'garbage.pem');
  fs.writeFileSync(garbage, 'not a pem file\n');
  const plainFile = path.join(root, 'not-a-socket');
  fs.writeFileSync(plainFile, 'keep me');
  const busy = path.join(root, 'busy.sock');
  const other = await serve(t, site, ['--socket', busy], {listen: null});
  // A socket file nobody answers on, as a killed server leaves it; and a TCP port taken.
  const stale = path.join(root, 'stale.sock');
  spawnSync('python3', ['-c', `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(stale)})`]);
  t.true(fs.statSync(stale).isSocket());
  const taken = net.createServer();
  await new Promise<void>(resolve => taken.listen(0, '127.0.0.1', resolve));
  t.teardown(() => taken.close());
  const takenPort = (taken.address() as net.AddressInfo).port;
  const tls = (c: string, k: string, a: string) => ['--tls-cert', c, '--tls-key', k, '--tls-ca', a];
  const rows: [string, string[], number, RegExp][] = [
    ['a non-loopback address without TLS', ['--listen', '0.0.0.0:0'], 2, /0\.0\.0\.0 is not a loopback address/],
    ['any IPv6 address without TLS', ['--listen', '[::]:0'], 2, /:: is not a loopback address/],
    ['a host name that only starts like loopback', ['--listen', '127.example.invalid:0'], 2, /127\.example\.invalid is not a loopback/],
    ['--tls-cert alone', ['--tls-cert', cert], 2, /--tls-key and --tls-ca are missing/],
    ['no --tls-ca', ['--tls-cert', cert, '--tls-key', key], 2, /--tls-ca is missing/],
    ['no --tls-cert', ['--tls-key', key, '--tls-ca', ca], 2, /--tls-cert is missing/],
    ['a certificate file that does not exist', tls(path.join(root, 'no-such.pem'), key, ca), 10, /--tls-cert "[^"]+no-such\.pem": no such file/],
    ['a directory for the key', tls(cert, root, ca), 10, /--tls-key "[^"]+": a directory/],
    ['a certificate file that is not PEM', tls(garbage, key, ca), 2, /--tls-cert "[^"]+garbage\.pem" holds no PEM certificate/],
    ['a key file that is not a key', tls(cert, garbage, ca), 2, /--tls-key "[^"]+garbage\.pem" holds no PEM private key/],
    ['the key of another certificate', tls(cert, certs.client.key, ca), 2, /is not the key of the certificate/],
    ['a CA file without a CA', tls(cert, key, cert), 2, /--tls-ca "[^"]+" holds no CA certificate/],
    ['--insecure with TLS', [...tls(cert, key, ca), '--insecure'], 2, /--insecure serves in plain text and --tls-\* require TLS/],
    ['--socket on a file that is not a socket', ['--socket', plainFile], 4, /not-a-socket" exists and is not a socket/],
    ['--socket where another server listens', ['--socket', busy], 4, /busy\.sock": another server is listening there/],
    ['--socket in a directory that does not exist', ['--socket', path.join(root, 'nowhere', 'x.sock')], 2, /its directory "[^"]+nowhere" does not exist/],
    ['a TCP port in use, with a stale socket beside it', ['--listen', `127.0.0.1:${takenPort}`, '--socket', stale], 10, /listen EADDRINUSE/],
  ];
  const before = tree(root);
  for (const [what, args, code, cause] of rows) {
    const result = cli(['serve', '--site', site, ...args]);
    t.is(result.code, code, what);
    t.regex(result.stderr, /^marklog: [^\n]+\n$/, `${what}: one line`);
    t.regex(result.stderr, cause, what);
    t.is(result.stdout, '', `${what}: no readiness line`);
  }
  t.deepEqual(tree(root), before, 'nothing was created, changed or removed');
  t.is(fs.readFileSync(plainFile, 'utf8'), 'keep me');
  t.true(fs.statSync(stale).isSocket(), 'the stale socket is replaced only by a server that then listens');
  // The server that held the socket never noticed.
  const probe = net.connect(busy);
  await new Promise((resolve, reject) => probe.once('connect', resolve).once('error', reject));
  probe.destroy();
  other.child.kill('SIGTERM');
  t.like(await other.done, {code: 0});
});

test('a key file the server may not read is one line naming it and exit 10 (the server run as another user, since root reads anything)', t => {
  const root = tempDir(t);
  fs.chmodSync(root, 0o755);
  const site = path.join(root, 'primary');
  cliJson(['site', 'init', site, '--role', 'primary']);
  createVolume(site, '1M');
  // The site is the other user's, as a site would be the server's; the key stays root's and private.
  chownTree(site, NOBODY);
  const certs = makeCertificates(t);
  for (const dir of [path.dirname(path.dirname(certs.server.key)), path.dirname(certs.server.key)]) fs.chmodSync(dir, 0o755);
  for (const file of [certs.server.cert, certs.server.ca]) fs.chmodSync(file, 0o644);
  fs.chmodSync(certs.server.key, 0o600);
  const before = tree(root);
  const result = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, BIN, 'serve', '--site', site,
    '--tls-cert', certs.server.cert, '--tls-key', certs.server.key, '--tls-ca', certs.server.ca], {encoding: 'utf8', timeout: 30_000});
  t.is(result.status, 10);
  t.regex(result.stderr, /^marklog: --tls-key "[^"]+server-key\.pem": permission denied\n$/);
  t.deepEqual(tree(root), before);
});

test('in-process, each cause is its own error class with its stable code', async t => {
  const root = tempDir(t);
  const sitePath = path.join(root, 'primary');
  cliJson(['site', 'init', sitePath, '--role', 'primary']);
  createVolume(sitePath, '1M');
  const site = Site.open(sitePath);
  const certs = makeCertificates(t);
  const paths = certs.server;
  const garbage = path.join(root, 'garbage.pem');
  fs.writeFileSync(garbage, 'nothing here');
  t.like(t.throws(() => serveOptions({tlsCert: paths.cert, insecure: false, readOnly: false})), {constructor: TlsFlagsError, code: 'TLS_FLAGS_INCOMPLETE'});
  t.like(t.throws(() => serveOptions({socket: '', insecure: false, readOnly: false})), {constructor: InvalidArgumentError, code: 'INVALID_ARGUMENT'});
  t.deepEqual(serveOptions({socket: 'x.sock', insecure: false, readOnly: false}).tcp, undefined, '--socket alone: no TCP');
  t.deepEqual(serveOptions({insecure: false, readOnly: false}).tcp, {host: '127.0.0.1', port: 10809}, 'neither: the default address');
  await t.throwsAsync(serveNbd(site, {tcp: {host: '0.0.0.0', port: 0}}), {instanceOf: PlaintextListenError, code: 'TLS_REQUIRED'});
  await t.throwsAsync(loadTlsCredentials({...paths, cert: path.join(root, 'missing.pem')}), {instanceOf: TlsFileError, code: 'TLS_FILE_UNREADABLE'});
  await t.throwsAsync(loadTlsCredentials({...paths, key: garbage}), {instanceOf: TlsCredentialsError, code: 'TLS_BAD_CREDENTIALS'});
  await t.throwsAsync(loadTlsCredentials({...paths, key: certs.client.key}), {instanceOf: TlsCredentialsError, message: /not the key of the certificate/});
  const day = 24 * 3600 * 1000;
  await t.throwsAsync(loadTlsCredentials(paths, new Date(Date.now() + 30 * day)), {instanceOf: TlsCredentialsError, message: /--tls-cert "[^"]+" expired on/});
  await t.throwsAsync(loadTlsCredentials(paths, new Date(Date.now() - day)), {instanceOf: TlsCredentialsError, message: /--tls-cert "[^"]+" is not valid before/});
  t.truthy(await loadTlsCredentials(paths), 'the same files, today, are good credentials');
  const plainFile = path.join(root, 'file');
  fs.writeFileSync(plainFile, 'x');
  await t.throwsAsync(serveNbd(site, {socket: plainFile}), {instanceOf: NotASocketError, code: 'NOT_A_SOCKET'});
  const busy = path.join(root, 'busy.sock');
  const holder = net.createServer(socket => socket.destroy());
  await new Promise<void>(resolve => holder.listen(busy, resolve));
  t.teardown(() => holder.close());
  await t.throwsAsync(serveNbd(site, {socket: busy}), {instanceOf: SocketInUseError, code: 'SOCKET_IN_USE'});
  await t.throwsAsync(serveNbd(site, {socket: path.join(root, 'no-dir', 'x.sock')}), {instanceOf: InvalidArgumentError});
});
