// A small, strict NBD client over `Wire` for tests that speak to `marklog serve`
// themselves: the greeting, option replies up to the final one, GO, and requests
// whose replies must carry the right magic and echo the cookie. Anything else throws.
import {spawn, type ChildProcess} from 'node:child_process';
import type {ExecutionContext} from 'ava';
import {BIN} from './cli.js';
import {exited, type Exit} from './processes.js';
import {waitFor} from './wait.js';
import {CMD, MAGIC, OPT, REP, Wire, clientFlags, infoData, option, request} from './nbd-wire.js';

export interface Served {
  child: ChildProcess;
  port: number;
  exports: {ldev: number; names: string[]; capacity: number}[];
  done: Promise<Exit>;
}

/** `marklog serve --json` on a free loopback port, once it printed its readiness line. */
export async function startServe(t: ExecutionContext, site: string, extra: string[] = []): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--site', site, '--listen', '127.0.0.1:0', '--json', ...extra], {stdio: ['ignore', 'pipe', 'pipe']});
  const done = exited(child);
  let out = '';
  child.stdout!.on('data', chunk => {
    out += chunk;
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await waitFor(() => out.includes('\n') || child.exitCode !== null, {what: 'marklog serve to print its readiness line', seen: () => out});
  const ready = JSON.parse(out.split('\n')[0]);
  return {child, port: ready.listening.port, exports: ready.exports, done};
}

/** SIGTERM, then how it ended; a server still running after `ms` is killed and reported as 'hung'. */
export async function stopServe(served: Served, ms = 30_000): Promise<Exit | 'hung'> {
  served.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>(resolve => {
    timer = setTimeout(() => resolve('hung'), ms);
  });
  const result = await Promise.race([served.done, hung]);
  clearTimeout(timer);
  if (result === 'hung') served.child.kill('SIGKILL');
  return result;
}

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

  constructor(readonly wire: Wire) {}

  /** Connects (to a loopback port, or a Unix socket path), greets with both client flags and GOes to `name`. */
  static async open(port: number | string, name: string): Promise<NbdClient> {
    const wire = await Wire.connect(port);
    await greet(wire);
    wire.send(Buffer.concat([clientFlags(3), option(OPT.go, infoData(name))]));
    const replies = await optionReplies(wire, OPT.go);
    if (replies.at(-1)!.type !== REP.ack) throw new Error(`GO "${name}" answered 0x${replies.at(-1)!.type.toString(16)}`);
    return new NbdClient(wire);
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
