// The NBD handshake's option haggling (docs/NBD.md §3): LIST, INFO, GO, EXPORT_NAME,
// ABORT and STARTTLS. With TLS configured the server is in forced mode: before TLS,
// every option but STARTTLS gets ERR_TLS_REQD (EXPORT_NAME, which has no error reply,
// ends the connection), so nothing reaches an export before the client proved who
// it is. GO for writing claims the export for the client's host (writers.ts).
import {
  IHAVEOPT, MAX_PAYLOAD, Option, OptionReply, exportNameAnswer, infoBlockSize, infoExport, optionReply, serverEntry,
} from '../format/nbd-protocol.js';
import {ByteReader} from './byte-reader.js';
import type {Connection, ServeContext} from './context.js';
import {transmissionFlags, type NbdExport} from './exports.js';
import {clientName, type TlsAcceptor} from './tls.js';

/** Options longer than this are not read: no option needs as much. */
const MAX_OPTION = 64 * 1024;

export interface Negotiated {
  chosen: NbdExport;
  /** Reads the connection from here on (a new one after STARTTLS). */
  reader: ByteReader;
}

function message(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

/** The option haggling; the export the client settled on, or undefined when it left or must be dropped. */
export async function negotiate(connection: Connection, first: ByteReader, context: ServeContext, noZeroes: boolean): Promise<Negotiated | undefined> {
  let reader = first;
  let secure = false;
  const send = (bytes: Buffer) => connection.socket.write(bytes);
  const flags = transmissionFlags(context.readOnly);
  for (;;) {
    const head = await reader.read(16);
    if (!head || head.readBigUInt64BE(0) !== IHAVEOPT) return undefined;
    const option = head.readUInt32BE(8);
    const length = head.readUInt32BE(12);
    if (length > MAX_OPTION) return undefined;
    const data = await reader.read(length);
    if (!data) return undefined;
    if (context.tls && !secure) {
      if (option === Option.startTls) {
        if (length !== 0) {
          send(optionReply(option, OptionReply.errInvalid, message('STARTTLS takes no data')));
          continue;
        }
        const upgraded = await startTls(connection, reader, context.tls);
        if (!upgraded) return undefined;
        reader = upgraded;
        secure = true;
        continue;
      }
      // Unknown or known, every option waits for TLS; EXPORT_NAME cannot be refused with a reply.
      if (option === Option.exportName) return undefined;
      send(optionReply(option, OptionReply.errTlsReqd, message('this server requires TLS: send STARTTLS first')));
      continue;
    }
    if (option === Option.exportName) {
      const chosen = findExport(context, data.toString('utf8'));
      // Unknown or refused can only end the connection here: this option has no error reply.
      if (!chosen || admit(connection, context, chosen)) return undefined;
      send(exportNameAnswer(chosen.capacity, flags, noZeroes));
      return {chosen, reader};
    }
    if (option === Option.abort) {
      send(optionReply(option, OptionReply.ack));
      return undefined;
    }
    if (option === Option.list) {
      if (length !== 0) {
        send(optionReply(option, OptionReply.errInvalid));
        continue;
      }
      for (const e of context.exports) send(optionReply(option, OptionReply.server, serverEntry(String(e.ldev), `LDEV ${e.ldev} (${e.names[1]})`)));
      send(optionReply(option, OptionReply.ack));
      continue;
    }
    if (option === Option.info || option === Option.go) {
      // u32 name length, the name, u16 count, count × u16 information requests, and nothing more:
      // a GO whose count is off is as malformed as one whose name is, and must not start transmission.
      const nameLength = length >= 6 ? data.readUInt32BE(0) : -1;
      const requests = nameLength >= 0 && 6 + nameLength <= length ? data.readUInt16BE(4 + nameLength) : -1;
      if (requests < 0 || length !== 6 + nameLength + 2 * requests) {
        send(optionReply(option, OptionReply.errInvalid));
        continue;
      }
      const name = data.toString('utf8', 4, 4 + nameLength);
      const chosen = findExport(context, name);
      if (!chosen) {
        send(optionReply(option, OptionReply.errUnknown, message(`no export named "${name}"`)));
        continue;
      }
      const refusal = option === Option.go ? admit(connection, context, chosen) : undefined;
      if (refusal) {
        send(optionReply(option, OptionReply.errPolicy, message(refusal)));
        continue;
      }
      send(optionReply(option, OptionReply.info, infoExport(chosen.capacity, flags)));
      send(optionReply(option, OptionReply.info, infoBlockSize(1, 4096, MAX_PAYLOAD)));
      send(optionReply(option, OptionReply.ack));
      if (option === Option.go) return {chosen, reader};
      continue;
    }
    if (option === Option.startTls) {
      // Asked twice, or of a server that has no TLS configured.
      send(context.tls ? optionReply(option, OptionReply.errInvalid, message('TLS is already on')) : optionReply(option, OptionReply.errUnsup));
      continue;
    }
    // Structured replies, meta contexts, anything newer: not spoken here.
    send(optionReply(option, OptionReply.errUnsup));
  }
}

function findExport(context: ServeContext, name: string): NbdExport | undefined {
  return context.exports.find(e => e.names.includes(name));
}

/** The one-writer rule: undefined when the connection may have the export (and now holds it for its host), else why not. */
function admit(connection: Connection, context: ServeContext, chosen: NbdExport): string | undefined {
  if (context.readOnly) return undefined;
  const refusal = context.claims.claim(chosen.ldev, connection.peer);
  if (!refusal) connection.claimed = chosen.ldev;
  return refusal;
}

function written(socket: Connection['socket'], bytes: Buffer): Promise<void> {
  return new Promise(resolve => socket.write(bytes, () => resolve()));
}

/**
 * STARTTLS: ACK in the clear, then the TLS handshake on the same socket. Bytes the
 * client sent after STARTTLS and before the ACK came in the clear, where anyone on
 * the path could have put them; they are never read as if TLS protected them: the
 * connection ends instead.
 */
async function startTls(connection: Connection, reader: ByteReader, acceptor: TlsAcceptor): Promise<ByteReader | undefined> {
  const raw = connection.socket;
  if (reader.detach() > 0) return undefined;
  await written(raw, optionReply(Option.startTls, OptionReply.ack));
  if (raw.destroyed) return undefined;
  const secure = await acceptor.accept(raw);
  if (!secure) return undefined;
  // Errors after the handshake end the connection through the reader; none may go unheard.
  secure.on('error', () => {});
  connection.socket = secure;
  const name = clientName(secure);
  if (name) connection.peer = {...connection.peer, label: `${connection.peer.label}, certificate "${name}"`};
  return new ByteReader(secure);
}
