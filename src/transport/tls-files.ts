// Mutual-TLS credentials from files, shared by `marklog serve` (docs/NBD.md §2) and
// `marklog agent --listen` (docs/WIRE.md §2): the certificate and key a server proves
// itself with, and the CA whose signature a client's certificate must carry. They are
// read and checked before anything listens, so a bad file is one line at start-up,
// not a refused client later.
import {X509Certificate, createPrivateKey, type KeyObject} from 'node:crypto';
import fs from 'node:fs/promises';
import tls from 'node:tls';
import {TlsCredentialsError, TlsFileError} from '../errors.js';

export interface TlsPaths {
  cert: string;
  key: string;
  ca: string;
}

/** The flags an operator gave the three files with, so an error names the one to fix. */
export interface TlsFlagNames {
  cert: string;
  key: string;
  ca: string;
}

export const TLS_FLAGS: TlsFlagNames = {cert: '--tls-cert', key: '--tls-key', ca: '--tls-ca'};

export interface TlsCredentials {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

async function readPem(flag: string, path: string): Promise<Buffer> {
  try {
    return await fs.readFile(path);
  } catch (error) {
    const {code, message} = error as NodeJS.ErrnoException;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'a directory, not a file' : message;
    throw new TlsFileError(`${flag} ${JSON.stringify(path)}: ${why}`);
  }
}

function certificate(flag: string, path: string, pem: Buffer): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new TlsCredentialsError(`${flag} ${JSON.stringify(path)} holds no PEM certificate`);
  }
}

/** Every certificate of a PEM bundle (a CA file may hold several). */
function bundle(flag: string, path: string, pem: Buffer): X509Certificate[] {
  const blocks = pem.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new TlsCredentialsError(`${flag} ${JSON.stringify(path)} holds no PEM certificate`);
  return blocks.map(block => certificate(flag, path, Buffer.from(block, 'latin1')));
}

function inDate(flag: string, path: string, cert: X509Certificate, now: Date): void {
  if (new Date(cert.validFrom) > now) throw new TlsCredentialsError(`${flag} ${JSON.stringify(path)} is not valid before ${cert.validFrom}`);
  if (new Date(cert.validTo) < now) throw new TlsCredentialsError(`${flag} ${JSON.stringify(path)} expired on ${cert.validTo}`);
}

/** Reads the three files and checks they make mutual-TLS credentials; each problem is its own one-line error. */
export async function loadTlsCredentials(paths: TlsPaths, now = new Date(), flags: TlsFlagNames = TLS_FLAGS): Promise<TlsCredentials> {
  const [cert, key, ca] = await Promise.all([readPem(flags.cert, paths.cert), readPem(flags.key, paths.key), readPem(flags.ca, paths.ca)]);
  const own = certificate(flags.cert, paths.cert, cert);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new TlsCredentialsError(`${flags.key} ${JSON.stringify(paths.key)} holds no PEM private key (or one locked by a passphrase, which marklog does not ask for)`);
  }
  if (!own.checkPrivateKey(privateKey)) {
    throw new TlsCredentialsError(`${flags.key} ${JSON.stringify(paths.key)} is not the key of the certificate in ${flags.cert} ${JSON.stringify(paths.cert)}`);
  }
  inDate(flags.cert, paths.cert, own, now);
  const authorities = bundle(flags.ca, paths.ca, ca);
  if (!authorities.some(a => a.ca)) throw new TlsCredentialsError(`${flags.ca} ${JSON.stringify(paths.ca)} holds no CA certificate (basic constraints CA:TRUE)`);
  for (const authority of authorities) inDate(flags.ca, paths.ca, authority, now);
  try {
    tls.createSecureContext({cert, key, ca});
  } catch (error) {
    throw new TlsCredentialsError(`${flags.cert}, ${flags.key} and ${flags.ca} do not make a TLS context: ${(error as Error).message}`);
  }
  return {cert, key, ca};
}
