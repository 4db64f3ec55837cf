// TLS for `marklog serve` (docs/NBD.md §2). The credentials are read and checked by
// src/transport/tls-files.ts before the server listens. NBD's STARTTLS turns a plain
// connection into a TLS one in mid-stream; the client must present a certificate the
// CA signed, or the connection ends.
import type net from 'node:net';
import tls from 'node:tls';
import type {TlsCredentials} from '../transport/tls-files.js';

export {loadTlsCredentials, type TlsCredentials, type TlsPaths} from '../transport/tls-files.js';

/** A client has this long to finish the TLS handshake once STARTTLS is acknowledged. */
export const HANDSHAKE_TIMEOUT_MS = 30_000;

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
