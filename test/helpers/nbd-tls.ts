// NBD's STARTTLS from the client's side, for tests that speak the wire themselves:
// the option, its ACK, then a TLS handshake on the same socket with node:tls, and
// the strict client over the TLS socket.
import fs from 'node:fs';
import tls from 'node:tls';
import {NbdClient, greet, optionReplies} from './nbd-client.js';
import {OPT, REP, Wire, clientFlags, infoData, option} from './nbd-wire.js';

export interface ClientFiles {
  cert?: string;
  key?: string;
  ca: string;
}

export function tlsOptions(files: ClientFiles): tls.ConnectionOptions {
  return {
    ca: fs.readFileSync(files.ca), ...(files.cert ? {cert: fs.readFileSync(files.cert)} : {}), ...(files.key ? {key: fs.readFileSync(files.key)} : {}),
    servername: 'localhost',
  };
}

export class StartTlsRefused extends Error {
  constructor(readonly type: number) {
    super(`STARTTLS answered 0x${type.toString(16)}`);
  }
}

/** STARTTLS, then the handshake; the Wire over TLS once the client considers it done (TLS 1.3: before the server has judged the client's certificate). */
export async function startTls(wire: Wire, files: ClientFiles): Promise<Wire> {
  wire.send(option(OPT.startTls));
  const replies = await optionReplies(wire, OPT.startTls);
  if (replies.at(-1)!.type !== REP.ack) throw new StartTlsRefused(replies.at(-1)!.type);
  const early = wire.release();
  if (early.length > 0) throw new Error(`${early.length} bytes came in the clear after STARTTLS's ACK`);
  const secure = tls.connect({socket: wire.socket, ...tlsOptions(files)});
  const over = Wire.over(secure);
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', () => resolve());
    secure.once('error', reject);
  });
  return over;
}

/** Connects, greets, upgrades to TLS and GOes to `name`. */
export async function openTls(port: number | string, name: string, files: ClientFiles): Promise<NbdClient> {
  const plain = await Wire.connect(port);
  await greet(plain);
  plain.send(clientFlags(3));
  const wire = await startTls(plain, files);
  wire.send(option(OPT.go, infoData(name)));
  const replies = await optionReplies(wire, OPT.go);
  if (replies.at(-1)!.type !== REP.ack) throw new Error(`GO "${name}" answered 0x${replies.at(-1)!.type.toString(16)}`);
  return NbdClient.afterGo(wire, name, replies);
}
