// The Network Block Device protocol, server side (docs/NBD.md §3): magics, option,
// reply, command and flag numbers, and the fixed-size frames. All integers are
// big-endian. Only the fixed newstyle handshake (with STARTTLS) and simple replies
// are spoken.

export const NBD_MAGIC = 0x4e42444d41474943n; // "NBDMAGIC"
export const IHAVEOPT = 0x49484156454f5054n; // "IHAVEOPT"
export const OPTION_REPLY_MAGIC = 0x3e889045565a9n;
export const REQUEST_MAGIC = 0x25609513;
export const SIMPLE_REPLY_MAGIC = 0x67446698;

export const HandshakeFlag = {fixedNewstyle: 1, noZeroes: 2} as const;
export const ClientFlag = {fixedNewstyle: 1, noZeroes: 2} as const;

export const Option = {exportName: 1, abort: 2, list: 3, startTls: 5, info: 6, go: 7} as const;
export const OptionReply = {
  ack: 1, server: 2, info: 3, errUnsup: 0x80000001, errPolicy: 0x80000002, errInvalid: 0x80000003, errTlsReqd: 0x80000005, errUnknown: 0x80000006,
} as const;
export const Info = {export: 0, name: 1, description: 2, blockSize: 3} as const;

export const Command = {read: 0, write: 1, disc: 2, flush: 3, trim: 4, cache: 5, writeZeroes: 6} as const;
export const CommandFlag = {fua: 1, noHole: 2} as const;
export const TransmissionFlag = {
  hasFlags: 1, readOnly: 2, sendFlush: 4, sendFua: 8, sendTrim: 32, sendWriteZeroes: 64, canMultiConn: 256, sendCache: 1024,
} as const;

export const NbdError = {perm: 1, io: 5, nomem: 12, inval: 22, nospc: 28, overflow: 75, notsup: 95, shutdown: 108} as const;

/** The largest payload a request may carry (the protocol's default maximum, 32 MiB). */
export const MAX_PAYLOAD = 32 * 1024 * 1024;
export const REQUEST_SIZE = 28;

/** The server's greeting: magic, IHAVEOPT, handshake flags. */
export function greeting(): Buffer {
  const out = Buffer.alloc(18);
  out.writeBigUInt64BE(NBD_MAGIC, 0);
  out.writeBigUInt64BE(IHAVEOPT, 8);
  out.writeUInt16BE(HandshakeFlag.fixedNewstyle | HandshakeFlag.noZeroes, 16);
  return out;
}

export function optionReply(option: number, type: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.alloc(20 + data.length);
  out.writeBigUInt64BE(OPTION_REPLY_MAGIC, 0);
  out.writeUInt32BE(option, 8);
  out.writeUInt32BE(type, 12);
  out.writeUInt32BE(data.length, 16);
  data.copy(out, 20);
  return out;
}

/** INFO_EXPORT: the export's size and transmission flags. */
export function infoExport(size: number, flags: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(Info.export, 0);
  out.writeBigUInt64BE(BigInt(size), 2);
  out.writeUInt16BE(flags, 10);
  return out;
}

export function infoBlockSize(minimum: number, preferred: number, maximum: number): Buffer {
  const out = Buffer.alloc(14);
  out.writeUInt16BE(Info.blockSize, 0);
  out.writeUInt32BE(minimum, 2);
  out.writeUInt32BE(preferred, 6);
  out.writeUInt32BE(maximum, 10);
  return out;
}

/** REP_SERVER for LIST: the name's length, the name, then a description. */
export function serverEntry(name: string, description: string): Buffer {
  const bytes = Buffer.from(name, 'utf8');
  const out = Buffer.alloc(4 + bytes.length);
  out.writeUInt32BE(bytes.length, 0);
  bytes.copy(out, 4);
  return Buffer.concat([out, Buffer.from(description, 'utf8')]);
}

/** The answer to EXPORT_NAME: size and flags, and no zero padding when the client asked for none. */
export function exportNameAnswer(size: number, flags: number, noZeroes: boolean): Buffer {
  const out = Buffer.alloc(noZeroes ? 10 : 134);
  out.writeBigUInt64BE(BigInt(size), 0);
  out.writeUInt16BE(flags, 8);
  return out;
}

export interface Request {
  flags: number;
  type: number;
  cookie: Buffer;
  offset: number;
  length: number;
}

/** A transmission request header; undefined when its magic is wrong (the stream is lost). */
export function decodeRequest(header: Buffer): Request | undefined {
  if (header.readUInt32BE(0) !== REQUEST_MAGIC) return undefined;
  const offset = header.readBigUInt64BE(16);
  return {
    flags: header.readUInt16BE(4), type: header.readUInt16BE(6), cookie: Buffer.from(header.subarray(8, 16)),
    offset: offset > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(offset), length: header.readUInt32BE(24),
  };
}

export function simpleReply(error: number, cookie: Buffer): Buffer {
  const out = Buffer.alloc(16);
  out.writeUInt32BE(SIMPLE_REPLY_MAGIC, 0);
  out.writeUInt32BE(error, 4);
  cookie.copy(out, 8);
  return out;
}
