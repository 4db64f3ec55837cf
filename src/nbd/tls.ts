// TLS for `marklog serve` (docs/NBD.md §2): the server's certificate and key, and the
// CA whose signature a client's certificate must carry. They are read and checked
// before the server listens, so a bad file is one line at start-up, not a refused
// client later. NBD's STARTTLS turns a plain connection into a TLS one in mid-stream;
// the client must present a certificate the CA signed, or the connection ends.
import {X509Certificate, createPrivateKey, type KeyObject} from 'node:crypto';
import fs from 'node:fs/promises';
import type net from 'node:net';
import tls from 'node:tls';
import {TlsCredentialsError, TlsFileError} from '../errors.js';

export interface TlsPaths {
  cert: string;
  key: string;
  ca: string;
}

export interface TlsCredentials {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

/** A client has this long to finish the TLS handshake once STARTTLS is acknowledged. */
export const HANDSHAKE_TIMEOUT_MS = 30_000;

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
export async function loadTlsCredentials(paths: TlsPaths, now = new Date()): Promise<TlsCredentials> {
  const [cert, key, ca] = await Promise.all([readPem('--tls-cert', paths.cert), readPem('--tls-key', paths.key), readPem('--tls-ca', paths.ca)]);
  const own = certificate('--tls-cert', paths.cert, cert);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new TlsCredentialsError(`--tls-key ${JSON.stringify(paths.key)} holds no PEM private key (or one locked by a passphrase, which marklog does not ask for)`);
  }
  if (!own.checkPrivateKey(privateKey)) {
    throw new TlsCredentialsError(`--tls-key ${JSON.stringify(paths.key)} is not the key of the certificate in --tls-cert ${JSON.stringify(paths.cert)}`);
  }
  inDate('--tls-cert', paths.cert, own, now);
  const authorities = bundle('--tls-ca', paths.ca, ca);
  if (!authorities.some(a => a.ca)) throw new TlsCredentialsError(`--tls-ca ${JSON.stringify(paths.ca)} holds no CA certificate (basic constraints CA:TRUE)`);
  for (const authority of authorities) inDate('--tls-ca', paths.ca, authority, now);
  try {
    tls.createSecureContext({cert, key, ca});
  } catch (error) {
    throw new TlsCredentialsError(`--tls-cert, --tls-key and --tls-ca do not make a TLS context: ${(error as Error).message}`);
  }
  return {cert, key, ca};
}

/**
 * The TLS handshakes of a server: `accept` runs one on a socket whose STARTTLS was
 * acknowledged and gives the verified TLS socket, or undefined when the client had no
 * certificate, one the CA did not sign, or left (the socket is then destroyed). A
 * tls.Server does the verification, so its rules are Node's and OpenSSL's, not ours;
 * it never listens, it is handed the socket. Each tls.Server does one handshake at a
 * time, so the TLS socket it reports is the one for that connection. One that succeeded
 * is kept for the next handshake, since building one parses the credentials (about a
 * millisecond of the event loop); one whose handshake failed is dropped, as the failed
 * socket may still report on it later.
 */
export class TlsAcceptor {
  private readonly idle: tls.Server[] = [];

  constructor(private readonly credentials: TlsCredentials) {}

  private server(): tls.Server {
    return this.idle.pop() ?? tls.createServer({
      ...this.credentials, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2', handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    });
  }

  accept(raw: net.Socket): Promise<tls.TLSSocket | undefined> {
    const server = this.server();
    return new Promise(resolve => {
      const finish = (secure?: tls.TLSSocket) => {
        server.off('secureConnection', verified);
        server.off('tlsClientError', failed);
        raw.off('close', refused);
        if (secure) this.idle.push(server);
        else raw.destroy();
        resolve(secure);
      };
      const verified = (secure: tls.TLSSocket) => {
        if (secure.authorized) finish(secure);
        else {
          secure.destroy();
          finish();
        }
      };
      const failed = (_error: Error, secure: tls.TLSSocket) => {
        secure.destroy();
        finish();
      };
      const refused = () => finish();
      server.on('secureConnection', verified);
      server.on('tlsClientError', failed);
      raw.on('close', refused);
      server.emit('connection', raw);
    });
  }
}

/** The common name of the client's certificate, for messages. */
export function clientName(secure: tls.TLSSocket): string | undefined {
  const subject = secure.getPeerCertificate()?.subject as {CN?: string | string[]} | undefined;
  const name = Array.isArray(subject?.CN) ? subject?.CN[0] : subject?.CN;
  return name || undefined;
}
