// Throwaway certificates for the TLS tests, made with the openssl CLI in the test's
// temp dir: a CA, a server certificate for the addresses the server listens on, a
// client certificate the CA signed, and one a second CA signed. Client credentials
// come as directories in the layout qemu's tls-creds-x509 and libnbd's
// tls-certificates read: ca-cert.pem, client-cert.pem, client-key.pem.
import fs from 'node:fs';
import path from 'node:path';
import type {ExecutionContext} from 'ava';
import {run} from './serve.js';
import {tempDir} from './sites.js';

export interface Certificates {
  /** For `marklog serve --tls-cert --tls-key --tls-ca`. */
  server: {cert: string; key: string; ca: string};
  /** Client directories: a certificate the CA signed; none at all; one signed by another CA (which the directory also trusts, so the client itself is willing). */
  clientDirs: {valid: string; noCertificate: string; foreign: string};
  /** The valid client's files, for a Node client. */
  client: {cert: string; key: string; ca: string};
  /** The other CA's client, for a Node client. */
  foreign: {cert: string; key: string};
}

function newKey(file: string): void {
  run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', file]);
}

function selfSignedCa(dir: string, name: string): {cert: string; key: string} {
  const key = path.join(dir, `${name}-key.pem`);
  const cert = path.join(dir, `${name}-cert.pem`);
  newKey(key);
  run('openssl', ['req', '-x509', '-new', '-key', key, '-out', cert, '-days', '7', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return {cert, key};
}

/** A certificate for `subject` signed by `ca`, with these X.509 v3 extensions. */
function signed(dir: string, name: string, subject: string, ca: {cert: string; key: string}, extensions: string[], serial: number): {cert: string; key: string} {
  const key = path.join(dir, `${name}-key.pem`);
  const cert = path.join(dir, `${name}-cert.pem`);
  const request = path.join(dir, `${name}.csr`);
  const extfile = path.join(dir, `${name}.ext`);
  newKey(key);
  run('openssl', ['req', '-new', '-key', key, '-subj', `/CN=${subject}`, '-out', request]);
  fs.writeFileSync(extfile, `${extensions.join('\n')}\n`);
  run('openssl', ['x509', '-req', '-in', request, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', String(serial), '-days', '7', '-extfile', extfile, '-out', cert]);
  return {cert, key};
}

function clientDir(dir: string, name: string, trusted: string[], credentials?: {cert: string; key: string}): string {
  const out = path.join(dir, name);
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(out, 'ca-cert.pem'), trusted.map(file => fs.readFileSync(file, 'utf8')).join(''));
  if (credentials) {
    fs.copyFileSync(credentials.cert, path.join(out, 'client-cert.pem'));
    fs.copyFileSync(credentials.key, path.join(out, 'client-key.pem'));
  }
  return out;
}

/** The server certificate names `localhost` and each of `addresses` (IP subject alternative names: qemu and libnbd check them). */
export function makeCertificates(t: ExecutionContext, addresses: string[] = ['127.0.0.1']): Certificates {
  const dir = path.join(tempDir(t), 'pki');
  fs.mkdirSync(dir);
  const ca = selfSignedCa(dir, 'test-ca');
  const other = selfSignedCa(dir, 'other-ca');
  const server = signed(dir, 'server', 'localhost', ca, ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth', `subjectAltName=DNS:localhost,${addresses.map(a => `IP:${a}`).join(',')}`], 2);
  const clientUsage = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth'];
  const client = signed(dir, 'client', 'test-client', ca, clientUsage, 3);
  const foreign = signed(dir, 'foreign', 'intruder', other, clientUsage, 4);
  return {
    server: {cert: server.cert, key: server.key, ca: ca.cert},
    clientDirs: {
      valid: clientDir(dir, 'client-valid', [ca.cert], client),
      noCertificate: clientDir(dir, 'client-none', [ca.cert]),
      // qemu checks its own certificate against ca-cert.pem before it connects, so this directory trusts both CAs:
      // the refusal then has to come from the server.
      foreign: clientDir(dir, 'client-foreign', [ca.cert, other.cert], foreign),
    },
    client: {...client, ca: ca.cert},
    foreign,
  };
}

/** qemu's client credentials object and the --image-opts of an NBD export through TLS. */
export function qemuTls(dir: string, server: string): string[] {
  return ['--object', `tls-creds-x509,id=tls0,endpoint=client,dir=${dir}`, '--image-opts', `driver=nbd,${server},tls-creds=tls0`];
}
