// A pipelined NBD client for the crash tests: the strict client's handshake (GO, from
// nbd-client.ts) and nbd-wire.ts's frames, then any number of requests in flight, each
// promise settling when the server answers that request's cookie. So a crash test
// knows what real clients keep to themselves: which writes were acknowledged, and when
// each FLUSH completed.
import {NbdClient} from './nbd-client.js';
import {CMD, CMD_FLAG, MAGIC, Wire, request} from './nbd-wire.js';

/** The connection ended before the server answered. */
export class NbdConnectionLost extends Error {}

/** The server answered a request with an error (an errno value: EIO 5, ENOSPC 28…). */
export class NbdRequestError extends Error {
  constructor(readonly errno: number, what: string) {
    super(`${what}: NBD error ${errno}`);
  }
}

interface Pending {
  what: string;
  readLength: number;
  resolve(data: Buffer): void;
  reject(error: Error): void;
}

export class PipelinedClient {
  private cookie = 0n;
  private readonly pending = new Map<bigint, Pending>();
  private ended = false;
  /** Settles when the connection is gone, however it went. */
  readonly closed: Promise<void>;

  private constructor(private readonly wire: Wire, readonly size: number, readonly flags: number) {
    this.closed = this.receive();
  }

  /** False once the connection is gone. */
  get open(): boolean {
    return !this.ended;
  }

  /** Connects to 127.0.0.1:port (or a Unix socket path: a server in another network namespace) and enters transmission on export `name` with GO. */
  static async connect(port: number | string, name: string): Promise<PipelinedClient> {
    const {wire, size, flags} = await NbdClient.open(port, name);
    return new PipelinedClient(wire, size, flags);
  }

  /** Simple replies, matched by cookie; a good READ's data follows its reply. A reply may be a long time coming (no deadline). */
  private async receive(): Promise<void> {
    try {
      for (;;) {
        const reply = await this.wire.take(16, Infinity);
        if (reply.readUInt32BE(0) !== MAGIC.simpleReply) throw new Error('bad reply magic');
        const cookie = reply.readBigUInt64BE(8);
        const request = this.pending.get(cookie);
        if (!request) throw new Error(`a reply to cookie ${cookie}, which was never sent or already answered`);
        this.pending.delete(cookie);
        const error = reply.readUInt32BE(4);
        if (error !== 0) request.reject(new NbdRequestError(error, request.what));
        else request.resolve(request.readLength > 0 ? Buffer.from(await this.wire.take(request.readLength, Infinity)) : Buffer.alloc(0));
      }
    } catch (error) {
      this.ended = true;
      const lost = new NbdConnectionLost(error instanceof Error ? error.message : String(error));
      for (const request of this.pending.values()) request.reject(lost);
      this.pending.clear();
      this.wire.destroy();
    }
  }

  private send(type: number, flags: number, offset: number, length: number, what: string, payload?: Buffer): Promise<Buffer> {
    if (this.ended) return Promise.reject(new NbdConnectionLost('the connection is gone'));
    const cookie = ++this.cookie;
    const answered = new Promise<Buffer>((resolve, reject) => {
      this.pending.set(cookie, {what, readLength: type === CMD.read ? length : 0, resolve, reject});
    });
    this.wire.send(request(type, {flags, cookie, offset, length, payload}));
    return answered;
  }

  async write(offset: number, data: Buffer, options: {fua?: boolean} = {}): Promise<void> {
    await this.send(CMD.write, options.fua ? CMD_FLAG.fua : 0, offset, data.length, `WRITE ${offset}+${data.length}`, data);
  }

  /** TRIM: a hint by the protocol; marklog serve makes the range read as zeros. */
  async trim(offset: number, length: number): Promise<void> {
    await this.send(CMD.trim, 0, offset, length, `TRIM ${offset}+${length}`);
  }

  /** WRITE_ZEROES: the range must read back as zeros. */
  async writeZeroes(offset: number, length: number): Promise<void> {
    await this.send(CMD.writeZeroes, 0, offset, length, `WRITE_ZEROES ${offset}+${length}`);
  }

  read(offset: number, length: number): Promise<Buffer> {
    return this.send(CMD.read, 0, offset, length, `READ ${offset}+${length}`);
  }

  /** Resolves once every write answered before it is on stable storage. */
  async flush(): Promise<void> {
    await this.send(CMD.flush, 0, 0, 0, 'FLUSH');
  }

  /** DISC (no reply), then the end of the connection. */
  async disconnect(): Promise<void> {
    this.wire.socket.end(request(CMD.disc));
    await this.closed;
  }
}
