// A small NBD client written from the protocol's own rules (fixed newstyle handshake,
// GO, simple replies; NetworkBlockDevice doc/proto.md, "Fixed newstyle negotiation" and
// "Transmission"), not from marklog's server code. Requests are pipelined, and each
// promise settles when the server answers that request's cookie, so a crash test knows
// what real clients keep to themselves: which writes were acknowledged, and when each
// FLUSH completed. All integers are big-endian.
import net from 'node:net';

const NBDMAGIC = 0x4e42444d41474943n;
const IHAVEOPT = 0x49484156454f5054n;
const OPTION_REPLY_MAGIC = 0x3e889045565a9n;
const REQUEST_MAGIC = 0x25609513;
const SIMPLE_REPLY_MAGIC = 0x67446698;
const FLAG_FIXED_NEWSTYLE = 1;
const FLAG_NO_ZEROES = 2;
const OPT_GO = 7;
const REP_ACK = 1;
const REP_INFO = 3;
const INFO_EXPORT = 0;
const CMD_READ = 0;
const CMD_WRITE = 1;
const CMD_DISC = 2;
const CMD_FLUSH = 3;
const CMD_TRIM = 4;
const CMD_WRITE_ZEROES = 6;
const CMD_FLAG_FUA = 1;

/** The connection ended before the server answered. */
export class NbdConnectionLost extends Error {}

/** The server answered a request with an error (an errno value: EIO 5, ENOSPC 28…). */
export class NbdRequestError extends Error {
  constructor(readonly errno: number, what: string) {
    super(`${what}: NBD error ${errno}`);
  }
}

/** Bytes off the socket in exact lengths; every wait fails once the socket is gone. */
class Incoming {
  private buffered = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  ended = false;

  constructor(socket: net.Socket) {
    socket.on('data', chunk => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.poke();
    });
    for (const event of ['end', 'close', 'error']) {
      socket.on(event, () => {
        this.ended = true;
        this.poke();
      });
    }
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async take(length: number): Promise<Buffer> {
    while (this.buffered.length < length) {
      if (this.ended) throw new NbdConnectionLost('the server closed the connection');
      await new Promise<void>(resolve => (this.wake = resolve));
    }
    const out = this.buffered.subarray(0, length);
    this.buffered = this.buffered.subarray(length);
    return out;
  }
}

interface Pending {
  what: string;
  readLength: number;
  resolve(data: Buffer): void;
  reject(error: Error): void;
}

export class NbdClient {
  private cookie = 0n;
  private readonly pending = new Map<bigint, Pending>();
  /** Settles when the connection is gone, however it went. */
  readonly closed: Promise<void>;

  private constructor(private readonly socket: net.Socket, private readonly incoming: Incoming, readonly size: number, readonly flags: number) {
    this.closed = this.receive();
  }

  /** False once the connection is gone. */
  get open(): boolean {
    return !this.incoming.ended;
  }

  /** Connects to 127.0.0.1:port and enters transmission on export `name` with GO. */
  static async connect(port: number, name: string): Promise<NbdClient> {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const incoming = new Incoming(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const greeting = await incoming.take(18);
    if (greeting.readBigUInt64BE(0) !== NBDMAGIC || greeting.readBigUInt64BE(8) !== IHAVEOPT) throw new Error('not an NBD server (no fixed newstyle greeting)');
    if ((greeting.readUInt16BE(16) & FLAG_FIXED_NEWSTYLE) === 0) throw new Error('the server does not speak fixed newstyle');
    const clientFlags = Buffer.alloc(4);
    clientFlags.writeUInt32BE(FLAG_FIXED_NEWSTYLE | (greeting.readUInt16BE(16) & FLAG_NO_ZEROES));
    socket.write(clientFlags);
    // GO: u32 name length, name, u16 number of info requests (none: INFO_EXPORT comes anyway).
    const nameBytes = Buffer.from(name, 'utf8');
    const option = Buffer.alloc(16 + 4 + nameBytes.length + 2);
    option.writeBigUInt64BE(IHAVEOPT, 0);
    option.writeUInt32BE(OPT_GO, 8);
    option.writeUInt32BE(4 + nameBytes.length + 2, 12);
    option.writeUInt32BE(nameBytes.length, 16);
    nameBytes.copy(option, 20);
    socket.write(option);
    let size = -1;
    let flags = 0;
    for (;;) {
      const reply = await incoming.take(20);
      if (reply.readBigUInt64BE(0) !== OPTION_REPLY_MAGIC || reply.readUInt32BE(8) !== OPT_GO) throw new Error('bad option reply');
      const type = reply.readUInt32BE(12);
      const data = await incoming.take(reply.readUInt32BE(16));
      if (type === REP_ACK) break;
      if ((type & 0x80000000) !== 0) throw new Error(`GO "${name}" refused (0x${type.toString(16)}): ${data.toString('utf8')}`);
      if (type === REP_INFO && data.readUInt16BE(0) === INFO_EXPORT) {
        size = Number(data.readBigUInt64BE(2));
        flags = data.readUInt16BE(10);
      }
    }
    if (size < 0) throw new Error('GO ended without INFO_EXPORT');
    return new NbdClient(socket, incoming, size, flags);
  }

  /** Simple replies, matched by cookie; a good READ's data follows its reply. */
  private async receive(): Promise<void> {
    try {
      for (;;) {
        const reply = await this.incoming.take(16);
        if (reply.readUInt32BE(0) !== SIMPLE_REPLY_MAGIC) throw new Error('bad reply magic');
        const cookie = reply.readBigUInt64BE(8);
        const request = this.pending.get(cookie);
        if (!request) throw new Error(`a reply to cookie ${cookie}, which was never sent or already answered`);
        this.pending.delete(cookie);
        const error = reply.readUInt32BE(4);
        if (error !== 0) request.reject(new NbdRequestError(error, request.what));
        else request.resolve(request.readLength > 0 ? Buffer.from(await this.incoming.take(request.readLength)) : Buffer.alloc(0));
      }
    } catch (error) {
      const lost = error instanceof NbdConnectionLost ? error : new NbdConnectionLost(String(error));
      for (const request of this.pending.values()) request.reject(lost);
      this.pending.clear();
      this.socket.destroy();
    }
  }

  private send(type: number, flags: number, offset: number, length: number, what: string, payload?: Buffer): Promise<Buffer> {
    if (this.incoming.ended) return Promise.reject(new NbdConnectionLost('the connection is gone'));
    const cookie = ++this.cookie;
    const header = Buffer.alloc(28);
    header.writeUInt32BE(REQUEST_MAGIC, 0);
    header.writeUInt16BE(flags, 4);
    header.writeUInt16BE(type, 6);
    header.writeBigUInt64BE(cookie, 8);
    header.writeBigUInt64BE(BigInt(offset), 16);
    header.writeUInt32BE(length, 24);
    const answered = new Promise<Buffer>((resolve, reject) => {
      this.pending.set(cookie, {what, readLength: type === CMD_READ ? length : 0, resolve, reject});
    });
    this.socket.write(payload ? Buffer.concat([header, payload]) : header);
    return answered;
  }

  async write(offset: number, data: Buffer, options: {fua?: boolean} = {}): Promise<void> {
    await this.send(CMD_WRITE, options.fua ? CMD_FLAG_FUA : 0, offset, data.length, `WRITE ${offset}+${data.length}`, data);
  }

  /** TRIM: a hint by the protocol; marklog serve makes the range read as zeros. */
  async trim(offset: number, length: number): Promise<void> {
    await this.send(CMD_TRIM, 0, offset, length, `TRIM ${offset}+${length}`);
  }

  /** WRITE_ZEROES: the range must read back as zeros. */
  async writeZeroes(offset: number, length: number): Promise<void> {
    await this.send(CMD_WRITE_ZEROES, 0, offset, length, `WRITE_ZEROES ${offset}+${length}`);
  }

  read(offset: number, length: number): Promise<Buffer> {
    return this.send(CMD_READ, 0, offset, length, `READ ${offset}+${length}`);
  }

  /** Resolves once every write answered before it is on stable storage. */
  async flush(): Promise<void> {
    await this.send(CMD_FLUSH, 0, 0, 0, 'FLUSH');
  }

  /** DISC (no reply), then the end of the connection. */
  async disconnect(): Promise<void> {
    const header = Buffer.alloc(28);
    header.writeUInt32BE(REQUEST_MAGIC, 0);
    header.writeUInt16BE(CMD_DISC, 6);
    this.socket.end(header);
    await this.closed;
  }
}
