// Frames of the wire protocol between a primary and a remote site's agent:
// docs/WIRE.md §3 and §4. This is the only place with the frame's offsets, sizes,
// magic, version, limits and type values; the streaming reader (wire-decoder.ts)
// imports them. A frame is a fixed header with a CRC of its own, so its lengths are
// trusted before the body is waited for, then a JSON part and a binary part, then a
// CRC of both that trails them, so a sender can stream bulk bytes as it reads them.
import {crc32c} from './crc32c.js';
import {viewOf, writeU64} from './u64.js';
import {checkErrorBody, checkHello, checkWelcome, type ErrorBody, type Hello, type Welcome} from './wire-bodies.js';
import {WireTooLargeError} from '../errors.js';

// §3.2 The header.
export const WireHeader = {
  magic: 0, // u32 WIRE_MAGIC
  version: 4, // u8 WIRE_FRAME_VERSION
  type: 5, // u8 FrameType
  method: 6, // u16 method code (wire-methods.ts), 0 where the type has none
  id: 8, // u64 a request's sequence number in its session, or a ping's token
  ack: 16, // u64 the sender's cumulative acknowledgement (§5)
  jsonLength: 24, // u32 bytes of the JSON part
  binaryLength: 28, // u32 bytes of the binary part
  flags: 32, // u16 none defined in version 1: zero
  reserved: 34, // u16 zero
  headerCrc: 36, // u32 CRC-32C of bytes 0..35
} as const;
export const WIRE_HEADER_SIZE = 40;
export const WIRE_MAGIC = 0x46574c4d; // "MLWF" as bytes 4d 4c 57 46
export const WIRE_FRAME_VERSION = 1;
/** The magic and the version are checked as soon as these many bytes are in (§3.5). */
export const WIRE_PREFIX_SIZE = 5;

// §3.3 The trailer: the CRC-32C of the JSON part followed by the binary part.
export const WIRE_TRAILER_SIZE = 4;

// §3.4 Limits, fixed by the frame version rather than negotiated: a reader applies
// them to the first frame, before it knows who is speaking.
export const MAX_JSON_BYTES = 1024 * 1024;
export const MAX_BINARY_BYTES = 16 * 1024 * 1024;
export const MAX_FRAME_BYTES = WIRE_HEADER_SIZE + MAX_JSON_BYTES + MAX_BINARY_BYTES + WIRE_TRAILER_SIZE;

// §4 Frame types.
export const FrameType = {hello: 1, welcome: 2, request: 3, response: 4, error: 5, ping: 6, pong: 7, bye: 8} as const;
export type FrameTypeName = keyof typeof FrameType;
const TYPE_NAMES = new Map<number, FrameTypeName>(Object.entries(FrameType).map(([name, value]) => [value, name as FrameTypeName]));

export type WireFrame =
  | {type: 'hello'; ack: number; hello: Hello}
  | {type: 'welcome'; ack: number; welcome: Welcome}
  | {type: 'request' | 'response'; id: number; ack: number; method: number; json?: unknown; binary?: Uint8Array}
  | {type: 'error'; id: number; ack: number; method: number; error: ErrorBody}
  | {type: 'ping' | 'pong'; id: number; ack: number}
  | {type: 'bye'; ack: number};

/** The header's fields as numbers, once its magic, version and CRC have checked. */
export interface WireHeaderFields {
  type: number;
  method: number;
  id: number;
  ack: number;
  jsonLength: number;
  binaryLength: number;
}

/** The side that sends each frame type (§4); an ERROR about a whole connection (id 0) may come from either. */
export type WireSide = 'client' | 'agent';
const SENT_BY: Record<FrameTypeName, WireSide | 'either'> = {
  hello: 'client', welcome: 'agent', request: 'client', response: 'agent', error: 'agent', ping: 'either', pong: 'either', bye: 'either',
};

const EMPTY = Buffer.alloc(0);

/**
 * The §4 table for one header: undefined when its type allows these fields, else
 * the fixed reason. Lengths are checked against the limits separately, first.
 */
export function headerRuleBroken(h: WireHeaderFields): string | undefined {
  const name = TYPE_NAMES.get(h.type);
  if (name === undefined) return 'unknown frame type';
  const noBody = h.jsonLength === 0 && h.binaryLength === 0;
  switch (name) {
    case 'hello':
    case 'welcome':
      return h.method !== 0 || h.id !== 0 || h.binaryLength !== 0 || h.jsonLength === 0 ? 'bad field for its type' : undefined;
    case 'request':
    case 'response':
      return h.method === 0 || h.id === 0 ? 'bad field for its type' : undefined;
    case 'error':
      return (h.id === 0) !== (h.method === 0) || h.binaryLength !== 0 || h.jsonLength === 0 ? 'bad field for its type' : undefined;
    case 'ping':
    case 'pong':
      return h.method !== 0 || !noBody ? 'bad field for its type' : undefined;
    case 'bye':
      return h.method !== 0 || h.id !== 0 || !noBody ? 'bad field for its type' : undefined;
  }
}

/** Whether `side` may send a frame with this (valid) header. */
export function sentBy(h: WireHeaderFields, side: WireSide): boolean {
  const name = TYPE_NAMES.get(h.type)!;
  const sender = SENT_BY[name];
  return sender === 'either' || sender === side || (name === 'error' && h.id === 0);
}

/** The frame a checked header and its parsed JSON part make; a reason when the JSON is not what the type needs. */
export function frameOf(h: WireHeaderFields, json: unknown, binary: Buffer): WireFrame | {reason: string} {
  const {id, ack, method} = h;
  switch (TYPE_NAMES.get(h.type)!) {
    case 'hello': {
      const hello = checkHello(json);
      return 'reason' in hello ? hello : {type: 'hello', ack, hello: hello.value};
    }
    case 'welcome': {
      const welcome = checkWelcome(json);
      return 'reason' in welcome ? welcome : {type: 'welcome', ack, welcome: welcome.value};
    }
    case 'error': {
      const error = checkErrorBody(json);
      return 'reason' in error ? error : {type: 'error', id, ack, method, error: error.value};
    }
    case 'request':
      return {type: 'request', id, ack, method, json, binary};
    case 'response':
      return {type: 'response', id, ack, method, json, binary};
    case 'ping':
      return {type: 'ping', id, ack};
    case 'pong':
      return {type: 'pong', id, ack};
    case 'bye':
      return {type: 'bye', ack};
  }
}

/** The JSON part of a frame, as the header will describe it. */
function jsonOf(frame: WireFrame): unknown {
  switch (frame.type) {
    case 'hello':
      return frame.hello;
    case 'welcome':
      return frame.welcome;
    case 'error':
      return frame.error;
    case 'request':
    case 'response':
      return frame.json;
    default:
      return undefined;
  }
}

function headerOf(frame: WireFrame, jsonLength: number, binaryLength: number): WireHeaderFields {
  const id = 'id' in frame ? frame.id : 0;
  const method = 'method' in frame ? frame.method : 0;
  return {type: FrameType[frame.type], method, id, ack: frame.ack, jsonLength, binaryLength};
}

/**
 * A frame as the pieces that go on the wire one after the other: header, JSON part,
 * the caller's binary part itself (not copied), trailer. Over-long parts are a
 * WireTooLargeError before anything is allocated for them; a frame the §4 table or a
 * reader would refuse is a bug of the caller (RangeError), never sent.
 */
export function encodeFramePieces(frame: WireFrame): Buffer[] {
  const binary = frame.type === 'request' || frame.type === 'response' ? frame.binary ?? EMPTY : EMPTY;
  if (binary.length > MAX_BINARY_BYTES) throw new WireTooLargeError('binary part', binary.length, MAX_BINARY_BYTES);
  const value = jsonOf(frame);
  const text = value === undefined ? '' : JSON.stringify(value);
  if (typeof text !== 'string') throw new RangeError(`a ${frame.type} frame's JSON part does not serialise`);
  const jsonLength = Buffer.byteLength(text, 'utf8');
  if (jsonLength > MAX_JSON_BYTES) throw new WireTooLargeError('JSON part', jsonLength, MAX_JSON_BYTES);
  const h = headerOf(frame, jsonLength, binary.length);
  for (const n of [h.id, h.ack]) if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`a ${frame.type} frame's id and ack must be integers from 0 to 2^53 - 1`);
  if (!Number.isInteger(h.method) || h.method < 0 || h.method > 0xffff) throw new RangeError(`method code ${h.method} is not a u16`);
  const broken = headerRuleBroken(h);
  if (broken) throw new RangeError(`a ${frame.type} frame with id ${h.id} and method ${h.method}: ${broken}`);
  const fixed = frame.type === 'hello' ? checkHello(value) : frame.type === 'welcome' ? checkWelcome(value) : frame.type === 'error' ? checkErrorBody(value) : undefined;
  if (fixed && 'reason' in fixed) throw new RangeError(`a ${frame.type} frame: ${fixed.reason}`);
  const json = Buffer.from(text, 'utf8');
  const header = encodeHeader(h);
  const trailer = Buffer.alloc(WIRE_TRAILER_SIZE);
  trailer.writeUInt32LE(bodyCrcOf(json, binary), 0);
  return [header, json, Buffer.isBuffer(binary) ? binary : Buffer.from(binary.buffer, binary.byteOffset, binary.byteLength), trailer];
}

export function encodeFrame(frame: WireFrame): Buffer {
  return Buffer.concat(encodeFramePieces(frame));
}

export function encodeHeader(h: WireHeaderFields): Buffer {
  const out = Buffer.alloc(WIRE_HEADER_SIZE);
  const view = viewOf(out);
  out.writeUInt32LE(WIRE_MAGIC, WireHeader.magic);
  out[WireHeader.version] = WIRE_FRAME_VERSION;
  out[WireHeader.type] = h.type;
  out.writeUInt16LE(h.method, WireHeader.method);
  writeU64(view, h.id, WireHeader.id);
  writeU64(view, h.ack, WireHeader.ack);
  out.writeUInt32LE(h.jsonLength, WireHeader.jsonLength);
  out.writeUInt32LE(h.binaryLength, WireHeader.binaryLength);
  out.writeUInt32LE(headerCrcOf(out), WireHeader.headerCrc);
  return out;
}

export function headerCrcOf(header: Uint8Array): number {
  return crc32c(header.subarray(0, WireHeader.headerCrc));
}

export function bodyCrcOf(json: Uint8Array, binary: Uint8Array): number {
  return crc32c(binary, crc32c(json));
}
