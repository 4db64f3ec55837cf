// A small, strict NBD client over `Wire` for tests that speak to `marklog serve`
// themselves: the greeting, option replies up to the final one, GO, and requests
// whose replies must carry the right magic and echo the cookie. Anything else throws.
import {CMD, INFO, MAGIC, OPT, REP, Wire, clientFlags, infoData, option, request} from './nbd-wire.js';

/** Reads the server's greeting; throws unless it is NBDMAGIC, IHAVEOPT and fixed newstyle. */
export async function greet(wire: Wire): Promise<number> {
  const hello = await wire.take(18);
  if (hello.readBigUInt64BE(0) !== MAGIC.nbd || hello.readBigUInt64BE(8) !== MAGIC.ihaveopt) throw new Error(`bad greeting ${hello.toString('hex')}`);
  const flags = hello.readUInt16BE(16);
  if ((flags & 1) === 0) throw new Error('the server does not offer fixed newstyle');
  return flags;
}

export interface OptionReply {
  type: number;
  data: Buffer;
}

/** Every reply to one option, up to its final one (ACK or an error). */
export async function optionReplies(wire: Wire, number: number): Promise<OptionReply[]> {
  const replies: OptionReply[] = [];
  for (;;) {
    const head = await wire.take(20);
    if (head.readBigUInt64BE(0) !== MAGIC.optionReply) throw new Error(`bad option reply magic ${head.toString('hex', 0, 8)}`);
    if (head.readUInt32BE(8) !== number) throw new Error(`reply for option ${head.readUInt32BE(8)}, expected ${number}`);
    const type = head.readUInt32BE(12);
    replies.push({type, data: await wire.take(head.readUInt32BE(16))});
    if (type === REP.ack || type >= 0x80000000) return replies;
  }
}

export interface Reply {
  error: number;
  data: Buffer;
}

export class NbdClient {
  private cookie = 0n;

  /** `size` and `flags` are the export's, from the INFO_EXPORT that GO must send before its ACK. */
  private constructor(readonly wire: Wire, readonly size: number, readonly flags: number) {}

  /** Connects (to a loopback port, or a Unix socket path), greets with both client flags and GOes to `name`. */
  static async open(port: number | string, name: string): Promise<NbdClient> {
    const wire = await Wire.connect(port);
    await greet(wire);
    wire.send(Buffer.concat([clientFlags(3), option(OPT.go, infoData(name))]));
    return NbdClient.afterGo(wire, name, await optionReplies(wire, OPT.go));
  }

  /** The client of a connection whose GO got `replies`; throws unless they end in ACK after an INFO_EXPORT. */
  static afterGo(wire: Wire, name: string, replies: OptionReply[]): NbdClient {
    const last = replies.at(-1)!;
    if (last.type !== REP.ack) throw new Error(`GO "${name}" answered 0x${last.type.toString(16)}: ${last.data.toString('utf8')}`);
    const info = replies.find(r => r.type === REP.info && r.data.length >= 12 && r.data.readUInt16BE(0) === INFO.export);
    if (!info) throw new Error(`GO "${name}" ended without INFO_EXPORT`);
    return new NbdClient(wire, Number(info.data.readBigUInt64BE(2)), info.data.readUInt16BE(10));
  }

  /** Sends one request and awaits its simple reply (and a read's data when it succeeded). */
  async call(type: number, offset: bigint | number, length: number, fields: {flags?: number; payload?: Buffer} = {}): Promise<Reply> {
    const cookie = ++this.cookie | 0xabcd_0000_0000_0000n;
    this.wire.send(request(type, {cookie, offset, length, ...fields}));
    return this.reply(cookie, type === CMD.read ? length : 0);
  }

  /** The reply to a request sent by hand, checked against its cookie. */
  async reply(cookie: bigint, readLength = 0): Promise<Reply> {
    const head = await this.wire.take(16);
    if (head.readUInt32BE(0) !== MAGIC.simpleReply) throw new Error(`bad reply magic ${head.toString('hex', 0, 4)}`);
    if (head.readBigUInt64BE(8) !== cookie) throw new Error(`reply cookie ${head.readBigUInt64BE(8)}, expected ${cookie}`);
    const error = head.readUInt32BE(4);
    return {error, data: error === 0 && readLength > 0 ? await this.wire.take(readLength) : Buffer.alloc(0)};
  }

  write(offset: bigint | number, data: Buffer, flags = 0): Promise<Reply> {
    return this.call(CMD.write, offset, data.length, {flags, payload: data});
  }

  read(offset: number, length: number): Promise<Reply> {
    return this.call(CMD.read, offset, length);
  }

  /** NBD_CMD_DISC, then the server's close. */
  async disconnect(): Promise<'eof' | 'data' | 'open'> {
    this.wire.send(request(CMD.disc));
    const how = await this.wire.ending();
    this.wire.destroy();
    return how;
  }
}
