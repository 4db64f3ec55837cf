// The streaming reader of wire frames (docs/WIRE.md §3.5): bytes go in as the
// connection delivers them, in pieces of any size, and whole frames come out. It
// holds at most one frame: a 40-byte header, then, once that header has checked, one
// buffer of exactly the body it declares, which the limits bound. It never
// resynchronises: after the first bad frame nothing later in the stream can be
// trusted, so every later call repeats that error.
import {
  frameOf, headerCrcOf, headerRuleBroken, bodyCrcOf, sentBy, MAX_BINARY_BYTES, MAX_JSON_BYTES, WIRE_FRAME_VERSION, WIRE_HEADER_SIZE,
  WIRE_MAGIC, WIRE_PREFIX_SIZE, WIRE_TRAILER_SIZE, WireHeader, type WireFrame, type WireHeaderFields, type WireSide,
} from './wire-frame.js';
import {RemoteUnreachableError, WireCorruptError, WireProtocolError, WireTooLargeError, WireVersionError} from '../errors.js';
import {safeU64} from './u64.js';

export interface WireDecoderOptions {
  /** The side whose frames these are; frames of the other side's types are then a WireProtocolError. */
  from?: WireSide;
}

const utf8 = new TextDecoder('utf-8', {fatal: true, ignoreBOM: true});

export class WireDecoder {
  private readonly header = Buffer.alloc(WIRE_HEADER_SIZE);
  private headerFill = 0;
  private fields: WireHeaderFields | undefined;
  private body: Buffer | undefined;
  private bodyFill = 0;
  /** Bytes of the stream taken in before the current chunk, and where the frame being read began. */
  private position = 0;
  private frameStart = 0;
  private failure: unknown;

  constructor(private readonly options: WireDecoderOptions = {}) {}

  /**
   * Takes the next bytes of the stream and hands each frame they complete to
   * `deliver`, in order, as soon as it is whole. Throws the typed error of the first
   * frame that fails its checks, after delivering every frame before it. `deliver`
   * should not throw: if it does, the rest of the chunk is lost, so the decoder stops
   * there as it would for a bad frame.
   */
  push(chunk: Uint8Array, deliver: (frame: WireFrame) => void): void {
    if (this.failure !== undefined) throw this.failure;
    try {
      this.take(chunk, deliver);
    } catch (error) {
      this.failure = error;
      throw error;
    }
  }

  /** The stream has ended: an error if it ended inside a frame (the connection was lost), nothing if between two. */
  end(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.headerFill === 0) return;
    const expected = this.fields ? WIRE_HEADER_SIZE + this.body!.length : WIRE_HEADER_SIZE;
    const got = this.fields ? WIRE_HEADER_SIZE + this.bodyFill : this.headerFill;
    this.failure = new RemoteUnreachableError(`the connection ended inside a wire frame (byte ${this.frameStart}: ${got} of its ${this.fields ? '' : 'header\'s '}${expected} bytes arrived)`);
    throw this.failure;
  }

  private take(chunk: Uint8Array, deliver: (frame: WireFrame) => void): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.fields === undefined) {
        const before = this.headerFill;
        const n = Math.min(WIRE_HEADER_SIZE - before, chunk.length - at);
        if (before === 0) this.frameStart = this.position + at;
        this.header.set(chunk.subarray(at, at + n), before);
        this.headerFill += n;
        at += n;
        if (before < WIRE_PREFIX_SIZE && this.headerFill >= WIRE_PREFIX_SIZE) this.checkPrefix();
        if (this.headerFill === WIRE_HEADER_SIZE) this.startBody();
        continue;
      }
      const body = this.body!;
      const n = Math.min(body.length - this.bodyFill, chunk.length - at);
      body.set(chunk.subarray(at, at + n), this.bodyFill);
      this.bodyFill += n;
      at += n;
      if (this.bodyFill === body.length) {
        deliver(this.finish());
      }
    }
    this.position += chunk.length;
  }

  private corrupt(reason: string, detail?: string): WireCorruptError {
    return new WireCorruptError(reason, this.frameStart, detail);
  }

  private checkPrefix(): void {
    if (this.header.readUInt32LE(WireHeader.magic) !== WIRE_MAGIC) throw this.corrupt('bad magic');
    const version = this.header[WireHeader.version];
    if (version !== WIRE_FRAME_VERSION) {
      throw new WireVersionError(`wire frame at byte ${this.frameStart} of the connection has layout version ${version}; this marklog reads version ${WIRE_FRAME_VERSION}`,
        'run the same marklog version at both sites');
    }
  }

  private startBody(): void {
    const h = this.header;
    if (headerCrcOf(h) !== h.readUInt32LE(WireHeader.headerCrc)) throw this.corrupt('header checksum mismatch');
    if (h.readUInt16LE(WireHeader.flags) !== 0 || h.readUInt16LE(WireHeader.reserved) !== 0) throw this.corrupt('flags or reserved bits set');
    const id = safeU64(h, WireHeader.id);
    const ack = safeU64(h, WireHeader.ack);
    if (id === undefined || ack === undefined) throw this.corrupt('id or ack above 2^53 - 1');
    const fields: WireHeaderFields = {
      type: h[WireHeader.type], method: h.readUInt16LE(WireHeader.method), id, ack,
      jsonLength: h.readUInt32LE(WireHeader.jsonLength), binaryLength: h.readUInt32LE(WireHeader.binaryLength),
    };
    if (fields.jsonLength > MAX_JSON_BYTES) throw new WireTooLargeError('JSON part', fields.jsonLength, MAX_JSON_BYTES);
    if (fields.binaryLength > MAX_BINARY_BYTES) throw new WireTooLargeError('binary part', fields.binaryLength, MAX_BINARY_BYTES);
    const broken = headerRuleBroken(fields);
    if (broken) throw this.corrupt(broken, `type ${fields.type}, method ${fields.method}, id ${fields.id}`);
    if (this.options.from && !sentBy(fields, this.options.from)) {
      throw new WireProtocolError(`wire frame at byte ${this.frameStart} of the connection: a frame of type ${fields.type} cannot come from the ${this.options.from}`);
    }
    this.fields = fields;
    // Every byte of it is written before it is read: finish() runs only once it is full.
    this.body = Buffer.allocUnsafe(fields.jsonLength + fields.binaryLength + WIRE_TRAILER_SIZE);
    this.bodyFill = 0;
  }

  private finish(): WireFrame {
    const fields = this.fields!;
    const body = this.body!;
    this.fields = undefined;
    this.body = undefined;
    this.headerFill = 0;
    const json = body.subarray(0, fields.jsonLength);
    const binary = body.subarray(fields.jsonLength, fields.jsonLength + fields.binaryLength);
    if (bodyCrcOf(json, binary) !== body.readUInt32LE(fields.jsonLength + fields.binaryLength)) throw this.corrupt('body checksum mismatch');
    let value: unknown;
    if (json.length > 0) {
      try {
        value = JSON.parse(utf8.decode(json));
      } catch {
        throw this.corrupt('JSON part is not UTF-8 JSON');
      }
    }
    const frame = frameOf(fields, value, binary);
    if ('reason' in frame) throw this.corrupt(frame.reason);
    return frame;
  }
}

/** The frames of one complete stream: for bytes known to be whole (a test, a dump). */
export function decodeFrames(bytes: Uint8Array, options?: WireDecoderOptions): WireFrame[] {
  const frames: WireFrame[] = [];
  const decoder = new WireDecoder(options);
  decoder.push(bytes, frame => frames.push(frame));
  decoder.end();
  return frames;
}
