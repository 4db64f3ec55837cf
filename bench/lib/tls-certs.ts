// Throwaway certificates for the TLS rows, made with the openssl CLI in the bench's
// temp directory: a CA (basicConstraints CA:TRUE, as `loadTlsCredentials` insists),
// the agent's certificate for 127.0.0.1 (an IP subject alternative name: the client
// checks the address it connects to against it) and the primary's client certificate.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface Pem {
  cert: string;
  key: string;
}

export interface BenchCertificates {
  ca: string;
  /** The agent's (and the TLS sink's): --tls-cert, --tls-key. */
  server: Pem;
  /** The primary's: site link --tls-cert, --tls-key. */
  client: Pem;
}

function openssl(args: string[]): void {
  const result = spawnSync('openssl', args, {encoding: 'utf8'});
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} exited ${result.status ?? result.signal}: ${result.stderr}`);
}

function newKey(file: string): void {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', file]);
}

function signed(dir: string, name: string, ca: Pem, extensions: string[], serial: number): Pem {
  const pem = {cert: path.join(dir, `${name}-cert.pem`), key: path.join(dir, `${name}-key.pem`)};
  const request = path.join(dir, `${name}.csr`);
  const extfile = path.join(dir, `${name}.ext`);
  newKey(pem.key);
  openssl(['req', '-new', '-key', pem.key, '-subj', `/CN=bench-${name}`, '-out', request]);
  fs.writeFileSync(extfile, `${extensions.join('\n')}\n`);
  openssl(['x509', '-req', '-in', request, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', String(serial), '-days', '2', '-extfile', extfile, '-out', pem.cert]);
  return pem;
}

export function makeCertificates(dir: string): BenchCertificates {
  fs.mkdirSync(dir, {recursive: true});
  const ca = {cert: path.join(dir, 'ca-cert.pem'), key: path.join(dir, 'ca-key.pem')};
  newKey(ca.key);
  openssl(['req', '-x509', '-new', '-key', ca.key, '-out', ca.cert, '-days', '2', '-subj', '/CN=bench-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const server = signed(dir, 'agent', ca, ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth', 'subjectAltName=IP:127.0.0.1'], 2);
  const client = signed(dir, 'primary', ca, ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth'], 3);
  return {ca: ca.cert, server, client};
}
