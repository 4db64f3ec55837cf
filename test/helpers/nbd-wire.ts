// The client's side of the NBD wire, written from the protocol's own tables and kept
// apart from src/format/nbd-protocol.ts on purpose: if the server's codec gets a
// number wrong, a test built on these encoders still disagrees with it. Big-endian
// throughout. `Wire` reads exact lengths from a socket with a deadline, so a server
// that goes quiet fails a test instead of hanging it.
import net from 'node:net';

export const MAGIC = {
  nbd: 0x4e42444d41474943n, // "NBDMAGIC"
  ihaveopt: 0x49484156454f5054n, // "IHAVEOPT"
  optionReply: 0x0003e889045565a9n,
  request: 0x25609513,
  simpleReply: 0x67446698,
} as const;

export const OPT = {exportName: 1, abort: 2, list: 3, startTls: 5, info: 6, go: 7, structuredReply: 8, listMetaContext: 9, setMetaContext: 10} as const;
export const REP = {ack: 1, server: 2, info: 3, errUnsup: 0x80000001, errPolicy: 0x80000002, errInvalid: 0x80000003, errTlsReqd: 0x80000005, errUnknown: 0x80000006} as const;
export const INFO = {export: 0, name: 1, description: 2, blockSize: 3} as const;
export const CMD = {read: 0, write: 1, disc: 2, flush: 3, trim: 4, cache: 5, writeZeroes: 6, blockStatus: 7} as const;
export const CMD_FLAG = {fua: 1, noHole: 2, df: 4, reqOne: 8, fastZero: 16} as const;
export const TX_FLAG = {hasFlags: 1, readOnly: 2, sendTrim: 32, sendWriteZeroes: 64, canMultiConn: 256} as const;
export const ERRNO = {perm: 1, io: 5, inval: 22, nospc: 28, overflow: 75} as const;
/** The protocol's default largest payload; a server may hang up on a bigger write. */
export const MAX_PAYLOAD = 32 * 1024 * 1024;

export function clientFlags(flags: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(flags >>> 0, 0);
  return out;
}

export function option(number: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.alloc(16 + data.length);
  out.writeBigUInt64BE(MAGIC.ihaveopt, 0);
  out.writeUInt32BE(number >>> 0, 8);
  out.writeUInt32BE(data.length, 12);
  data.copy(out, 16);
  return out;
}

/** The data of INFO and GO: the name, then the information requests. */
export function infoData(name: string | Buffer, requests: number[] = []): Buffer {
  const bytes = typeof name === 'string' ? Buffer.from(name) : name;
  const out = Buffer.alloc(4 + bytes.length + 2 + 2 * requests.length);
  out.writeUInt32BE(bytes.length, 0);
  bytes.copy(out, 4);
  out.writeUInt16BE(requests.length, 4 + bytes.length);
  requests.forEach((r, i) => out.writeUInt16BE(r & 0xffff, 6 + bytes.length + 2 * i));
  return out;
}

export interface RequestFields {
  flags?: number;
  cookie?: bigint;
  offset?: bigint | number;
  length?: number;
  payload?: Buffer;
}

export function request(type: number, fields: RequestFields = {}): Buffer {
  const payload = fields.payload ?? Buffer.alloc(0);
  const out = Buffer.alloc(28 + payload.length);
  out.writeUInt32BE(MAGIC.request, 0);
  out.writeUInt16BE((fields.flags ?? 0) & 0xffff, 4);
  out.writeUInt16BE(type & 0xffff, 6);
  out.writeBigUInt64BE(fields.cookie ?? 0n, 8);
  out.writeBigUInt64BE(BigInt(fields.offset ?? 0), 16);
  out.writeUInt32BE(fields.length ?? payload.length, 24);
  payload.copy(out, 28);
  return out;
}

export class WireEnded extends Error {
  constructor(readonly wanted: number, readonly had: number) {
    super(`the server closed the connection with ${had} of ${wanted} awaited bytes`);
  }
}

export class WireTimeout extends Error {
  constructor(readonly wanted: number, readonly had: number, ms: number) {
    super(`no answer within ${ms} ms (${had} of ${wanted} awaited bytes)`);
  }
}

/** One client connection: exact-length reads, each with a deadline. */
export class Wire {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private gone = false;
  private wake: (() => void) | undefined;

  private readonly onData = (chunk: Buffer) => {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.poke();
  };
  private readonly onEnd = (error?: Error) => {
    this.gone = true;
    if (error instanceof Error) this.error = error;
    this.poke();
  };
  /** The socket error that ended the connection, if one did (a TLS alert, a reset). */
  error: Error | undefined;

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    // A reset from the server ends the connection like a close; the test decides whether that was allowed.
    socket.on('error', this.onEnd);
  }

  static connect(port: number | string): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const socket = typeof port === 'string' ? net.connect(port) : net.connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(new Wire(socket)));
      socket.once('error', reject);
    });
  }

  /** A Wire over a socket already connected (a TLS socket over this one, say). */
  static over(socket: net.Socket): Wire {
    return new Wire(socket);
  }

  /** Stops reading, for STARTTLS; the bytes that came and were not taken are returned. */
  release(): Buffer {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onEnd);
    const rest = Buffer.concat(this.chunks);
    this.chunks = [];
    this.buffered = 0;
    return rest;
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async until(ready: () => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!ready()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>(resolve => {
        const timer = Number.isFinite(left) ? setTimeout(resolve, left) : undefined;
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return true;
  }

  send(bytes: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }

  /** Exactly n bytes; WireEnded if the server closes first, WireTimeout after ms (Infinity: no deadline). */
  async take(n: number, ms = 20_000): Promise<Buffer> {
    const ok = await this.until(() => this.buffered >= n || this.gone, ms);
    if (this.buffered < n) throw ok ? new WireEnded(n, this.buffered) : new WireTimeout(n, this.buffered, ms);
    const whole = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks = whole.length > n ? [whole.subarray(n)] : [];
    this.buffered -= n;
    return whole.subarray(0, n);
  }

  /** How the connection ends from here: 'eof' (closed, nothing more sent), 'data' (more bytes came), or 'open' after ms. */
  async ending(ms = 20_000): Promise<'eof' | 'data' | 'open'> {
    await this.until(() => this.buffered > 0 || this.gone, ms);
    if (this.buffered > 0) return 'data';
    return this.gone ? 'eof' : 'open';
  }

  destroy(): void {
    this.socket.destroy();
  }
}
