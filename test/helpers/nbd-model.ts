// What an NBD server must do with any byte stream a client sends: the wire fuzzer's
// oracle. The model reads the stream in the units the server reads it (client flags,
// option header, option data, request header, write payload) and says, for each, what
// the server owes: which option replies, which simple reply with which error numbers,
// or the end of the connection. Its rules are the protocol's; where the protocol lets
// a server choose, they are what docs/NBD.md promises (an option over 64 KiB ends the
// connection, a write over 32 MiB too).
import {CMD, CMD_FLAG, ERRNO, MAGIC, MAX_PAYLOAD, OPT} from './nbd-wire.js';

export interface ExportView {
  names: string[];
  capacity: number;
  /** Bytes no fuzzer may change, [from, to): the well-behaved client's region, or all of a volume kept as it was. */
  protect: {from: number; to: number};
  /** The export's bytes when nothing changes them, so every read of it can be checked. */
  fixed?: Buffer;
}

export type Answer = 'ack' | 'unsup' | 'invalid' | 'unknown' | 'list' | 'info';

export type Expectation =
  | {kind: 'option'; option: number; answer: Answer; export?: ExportView; exports?: ExportView[]; what: string}
  | {kind: 'exportName'; export: ExportView; noZeroes: boolean; what: string}
  | {kind: 'reply'; cookie: Buffer; errors: number[]; readLength: number; expected?: Buffer; what: string}
  | {kind: 'close'; what: string};

export interface Unit {
  kind: 'flags' | 'optionHead' | 'optionData' | 'header' | 'payload';
  size: number;
}

/** The largest option the server reads; a longer one ends the connection (docs/NBD.md §3). */
export const MAX_OPTION = 64 * 1024;

const COMMANDS: number[] = [CMD.read, CMD.write, CMD.flush, CMD.trim, CMD.cache, CMD.writeZeroes];
const NAMES: Record<number, string> = {0: 'READ', 1: 'WRITE', 2: 'DISC', 3: 'FLUSH', 4: 'TRIM', 5: 'CACHE', 6: 'WRITE_ZEROES', 7: 'BLOCK_STATUS'};

/** The error numbers a request may be answered with; [0] when it must succeed. */
export function requestErrors(view: ExportView, type: number, flags: number, offset: bigint, length: number): number[] {
  if (!COMMANDS.includes(type)) return [ERRNO.inval];
  const errors = new Set<number>();
  // FUA is valid on every command once offered; NO_HOLE only on WRITE_ZEROES; nothing else is offered.
  const allowed = type === CMD.writeZeroes ? CMD_FLAG.fua | CMD_FLAG.noHole : CMD_FLAG.fua;
  if (flags & ~allowed) errors.add(ERRNO.inval);
  if (type === CMD.read && length > MAX_PAYLOAD) errors.add(ERRNO.inval);
  if (type !== CMD.flush && offset + BigInt(length) > BigInt(view.capacity)) {
    errors.add(type === CMD.write || type === CMD.writeZeroes ? ERRNO.nospc : ERRNO.inval);
  }
  if (errors.size > 0) return [...errors].sort((x, y) => x - y);
  // FLUSH's offset and length should be 0; the protocol names no error for other values.
  if (type === CMD.flush && (offset !== 0n || length !== 0)) return [0, ERRNO.inval];
  return [0];
}

export function describeRequest(header: Buffer): string {
  const type = header.readUInt16BE(6);
  const magic = header.readUInt32BE(0) === MAGIC.request ? '' : ` magic 0x${header.toString('hex', 0, 4)}`;
  return `${NAMES[type] ?? `command ${type}`} flags 0x${header.readUInt16BE(4).toString(16)} offset ${header.readBigUInt64BE(16)} length ${header.readUInt32BE(24)}${magic}`;
}

type Phase =
  | {name: 'flags'}
  | {name: 'optionHead'}
  | {name: 'optionData'; option: number; length: number}
  | {name: 'transmit'; view: ExportView}
  | {name: 'payload'; view: ExportView; remaining: number; reply: Expectation}
  | {name: 'closed'};

export class ServerModel {
  private phase: Phase = {name: 'flags'};
  private noZeroes = false;

  constructor(private readonly views: ExportView[]) {}

  get closed(): boolean {
    return this.phase.name === 'closed';
  }

  /** The export of the transmission phase, once the handshake chose one. */
  get chosen(): ExportView | undefined {
    return this.phase.name === 'transmit' || this.phase.name === 'payload' ? this.phase.view : undefined;
  }

  /** In the middle of a write's payload: the request cannot be answered until all of it came. */
  get inPayload(): boolean {
    return this.phase.name === 'payload';
  }

  /** The next unit the server reads; undefined once it has ended the connection. */
  next(): Unit | undefined {
    switch (this.phase.name) {
      case 'flags': return {kind: 'flags', size: 4};
      case 'optionHead': return {kind: 'optionHead', size: 16};
      case 'optionData': return {kind: 'optionData', size: this.phase.length};
      case 'transmit': return {kind: 'header', size: 28};
      case 'payload': return {kind: 'payload', size: this.phase.remaining};
      case 'closed': return undefined;
    }
  }

  /**
   * Rewrites a request header that would change protected bytes so that it points at
   * the end of the export instead (and is refused); true when it did.
   */
  guard(header: Buffer): boolean {
    const view = this.chosen;
    if (!view || header.readUInt32BE(0) !== MAGIC.request) return false;
    const type = header.readUInt16BE(6);
    const offset = header.readBigUInt64BE(16);
    const length = header.readUInt32BE(24);
    if (type !== CMD.write && type !== CMD.trim && type !== CMD.writeZeroes) return false;
    if (length === 0 || !requestErrors(view, type, header.readUInt16BE(4), offset, length).includes(0)) return false;
    if (offset >= BigInt(view.protect.to) || offset + BigInt(length) <= BigInt(view.protect.from)) return false;
    header.writeBigUInt64BE(BigInt(view.capacity), 16);
    return true;
  }

  /** Feeds one whole unit (or, for a payload, a piece of it); what the server owes for it. */
  consume(bytes: Buffer): Expectation[] {
    const phase = this.phase;
    switch (phase.name) {
      case 'flags': {
        const flags = bytes.readUInt32BE(0);
        if (flags & ~3) return this.close(`client flags 0x${flags.toString(16)} with an unknown bit`);
        this.noZeroes = (flags & 2) !== 0;
        this.phase = {name: 'optionHead'};
        return [];
      }
      case 'optionHead': {
        if (bytes.readBigUInt64BE(0) !== MAGIC.ihaveopt) return this.close(`option magic 0x${bytes.toString('hex', 0, 8)}`);
        const option = bytes.readUInt32BE(8);
        const length = bytes.readUInt32BE(12);
        if (length > MAX_OPTION) return this.close(`option ${option} of ${length} bytes`);
        if (length === 0) return this.option(option, Buffer.alloc(0));
        this.phase = {name: 'optionData', option, length};
        return [];
      }
      case 'optionData':
        return this.option(phase.option, bytes);
      case 'transmit':
        return this.request(phase.view, bytes);
      case 'payload': {
        phase.remaining -= bytes.length;
        if (phase.remaining > 0) return [];
        this.phase = {name: 'transmit', view: phase.view};
        return [phase.reply];
      }
      case 'closed':
        return [];
    }
  }

  private close(what: string): Expectation[] {
    this.phase = {name: 'closed'};
    return [{kind: 'close', what}];
  }

  private find(name: Buffer): ExportView | undefined {
    return this.views.find(v => v.names.some(n => Buffer.from(n).equals(name)));
  }

  private option(option: number, data: Buffer): Expectation[] {
    this.phase = {name: 'optionHead'};
    const what = `option ${option} with ${data.length} bytes`;
    switch (option) {
      case OPT.exportName: {
        const view = this.find(data);
        if (!view) return this.close(`EXPORT_NAME "${data.toString('latin1', 0, 40)}", unknown`);
        this.phase = {name: 'transmit', view};
        return [{kind: 'exportName', export: view, noZeroes: this.noZeroes, what}];
      }
      case OPT.abort:
        this.phase = {name: 'closed'};
        return [{kind: 'option', option, answer: 'ack', what}, {kind: 'close', what: 'after ABORT'}];
      case OPT.list:
        return [{kind: 'option', option, answer: data.length === 0 ? 'list' : 'invalid', exports: this.views, what}];
      case OPT.info:
      case OPT.go: {
        // u32 name length, the name, u16 count, count × u16: anything else is malformed.
        const nameLength = data.length >= 6 ? data.readUInt32BE(0) : -1;
        const fits = nameLength >= 0 && 6 + nameLength <= data.length;
        if (!fits || data.length !== 6 + nameLength + 2 * data.readUInt16BE(4 + nameLength)) return [{kind: 'option', option, answer: 'invalid', what}];
        const view = this.find(data.subarray(4, 4 + nameLength));
        if (!view) return [{kind: 'option', option, answer: 'unknown', what}];
        if (option === OPT.go) this.phase = {name: 'transmit', view};
        return [{kind: 'option', option, answer: 'info', export: view, what}];
      }
      default:
        return [{kind: 'option', option, answer: 'unsup', what}];
    }
  }

  private request(view: ExportView, header: Buffer): Expectation[] {
    const what = describeRequest(header);
    if (header.readUInt32BE(0) !== MAGIC.request) return this.close(what);
    const type = header.readUInt16BE(6);
    const offset = header.readBigUInt64BE(16);
    const length = header.readUInt32BE(24);
    if (type === CMD.disc) return this.close(what);
    if (type === CMD.write && length > MAX_PAYLOAD) return this.close(what);
    const errors = requestErrors(view, type, header.readUInt16BE(4), offset, length);
    const reads = type === CMD.read && errors.includes(0);
    const expected = reads && view.fixed ? view.fixed.subarray(Number(offset), Number(offset) + length) : undefined;
    const reply: Expectation = {kind: 'reply', cookie: Buffer.from(header.subarray(8, 16)), errors, readLength: reads ? length : 0, expected, what};
    if (type === CMD.write && length > 0) {
      this.phase = {name: 'payload', view, remaining: length, reply};
      return [];
    }
    return [reply];
  }
}
