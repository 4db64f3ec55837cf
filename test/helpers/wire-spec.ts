// An independent reading of docs/WIRE.md §3 and §4, for the wire fuzz test: it
// walks a complete stream with the page's offsets and its table of checks, in the
// page's order, and says which frames a reader delivers and which error it stops at.
// It shares nothing with src/format/wire-*.ts but the frame shapes it returns. Also
// the header's fields as the mutators see them, and a repair of a damaged stream's
// CRCs, for the fuzz tests that damage frames (the reader's and the agent's).
import {crc32cOf, SAFE_MAX, U32_MAX, U64_MAX, type Field} from './fuzz.js';

const HEADER = 40;
const TRAILER = 4;
const MAX_JSON = 1024 * 1024;
const MAX_BINARY = 16 * 1024 * 1024;
const TYPES = ['hello', 'welcome', 'request', 'response', 'error', 'ping', 'pong', 'bye'] as const;
type TypeName = typeof TYPES[number];

export interface SpecReading {
  /** The frames, shaped as the codec's WireFrame. */
  frames: object[];
  /** Where a frame failed, the error code §3.5 gives; undefined for a clean end. */
  code?: string;
  /** The body size (both parts and trailer) of every header that passed steps 1-9. */
  announced: number[];
}

const hex16 = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{16}$/.test(v);
const version = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
const plainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** §4.1, §4.2, §4.4: the members each fixed body must have; undefined when it lacks them. */
function fixedBody(type: TypeName, value: unknown): object | undefined {
  if (!plainObject(value)) return undefined;
  if (type === 'hello') {
    const p = value.protocol;
    if (!plainObject(p) || !version(p.min) || !version(p.max) || p.min > p.max) return undefined;
    if (!hex16(value.session) || !hex16(value.client) || !(value.site === '' || hex16(value.site))) return undefined;
    return {protocol: {min: p.min, max: p.max}, session: value.session, client: value.client, site: value.site};
  }
  if (type === 'welcome') {
    const s = value.site;
    if (!version(value.protocol) || !hex16(value.session) || /^0+$/.test(value.session)) return undefined;
    if (!plainObject(s) || !hex16(s.id) || typeof s.name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(s.name) || (s.role !== 'primary' && s.role !== 'remote')) return undefined;
    return {protocol: value.protocol, session: value.session, site: {id: s.id, name: s.name, role: s.role}};
  }
  if (typeof value.code !== 'string' || !/^[A-Z][A-Z0-9_]{0,63}$/.test(value.code) || typeof value.message !== 'string') return undefined;
  if (value.hint !== undefined && typeof value.hint !== 'string') return undefined;
  const d = value.details;
  const plain = (x: unknown) => x === null || ['string', 'boolean'].includes(typeof x) || (typeof x === 'number' && Number.isFinite(x));
  if (d !== undefined && (!plainObject(d) || !Object.values(d).every(plain))) return undefined;
  return {code: value.code, message: value.message, ...(value.hint !== undefined ? {hint: value.hint} : {}), ...(d !== undefined ? {details: {...d}} : {})};
}

/** §4's table: whether a header's method, id and lengths suit its type. */
function fieldsFit(type: TypeName, method: number, id: number, json: number, binary: number): boolean {
  switch (type) {
    case 'hello':
    case 'welcome':
      return method === 0 && id === 0 && json > 0 && binary === 0;
    case 'request':
    case 'response':
      return method !== 0 && id !== 0;
    case 'error':
      return (id === 0 ? method === 0 : method !== 0) && json > 0 && binary === 0;
    case 'ping':
    case 'pong':
      return method === 0 && json === 0 && binary === 0;
    case 'bye':
      return method === 0 && id === 0 && json === 0 && binary === 0;
  }
}

function sentByOther(type: TypeName, id: number, from: 'client' | 'agent'): boolean {
  const client = ['hello', 'request'];
  const agent = ['welcome', 'response', 'error'];
  if (type === 'error' && id === 0) return true;
  return from === 'client' ? !agent.includes(type) : !client.includes(type);
}

function utf8Json(bytes: Buffer): {value: unknown} | undefined {
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) return undefined;
  try {
    return {value: JSON.parse(text)};
  } catch {
    return undefined;
  }
}

export function specRead(stream: Buffer, from?: 'client' | 'agent'): SpecReading {
  const frames: object[] = [];
  const announced: number[] = [];
  const stop = (code: string): SpecReading => ({frames, code, announced});
  let at = 0;
  while (at < stream.length) {
    const f = stream.subarray(at);
    if (f.length < 5) return stop('REMOTE_UNREACHABLE');
    if (f.subarray(0, 4).toString('latin1') !== 'MLWF') return stop('WIRE_CORRUPT');
    if (f[4] !== 1) return stop('WIRE_VERSION');
    if (f.length < HEADER) return stop('REMOTE_UNREACHABLE');
    if (crc32cOf(f.subarray(0, 36)) !== f.readUInt32LE(36)) return stop('WIRE_CORRUPT');
    if (f.readUInt16LE(32) !== 0 || f.readUInt16LE(34) !== 0) return stop('WIRE_CORRUPT');
    const [id64, ack64] = [f.readBigUInt64LE(8), f.readBigUInt64LE(16)];
    if (id64 >= 2n ** 53n || ack64 >= 2n ** 53n) return stop('WIRE_CORRUPT');
    const [json, binary] = [f.readUInt32LE(24), f.readUInt32LE(28)];
    if (json > MAX_JSON || binary > MAX_BINARY) return stop('WIRE_TOO_LARGE');
    const type = TYPES[f[5] - 1];
    const [method, id, ack] = [f.readUInt16LE(6), Number(id64), Number(ack64)];
    if (type === undefined || !fieldsFit(type, method, id, json, binary)) return stop('WIRE_CORRUPT');
    if (from && !sentByOther(type, id, from)) return stop('WIRE_PROTOCOL');
    const size = HEADER + json + binary + TRAILER;
    announced.push(size - HEADER);
    if (f.length < size) return stop('REMOTE_UNREACHABLE');
    const [jsonBytes, binaryBytes] = [f.subarray(HEADER, HEADER + json), f.subarray(HEADER + json, HEADER + json + binary)];
    if (crc32cOf(jsonBytes, binaryBytes) !== f.readUInt32LE(HEADER + json + binary)) return stop('WIRE_CORRUPT');
    const parsed = json === 0 ? {value: undefined} : utf8Json(jsonBytes);
    if (!parsed) return stop('WIRE_CORRUPT');
    if (type === 'hello' || type === 'welcome' || type === 'error') {
      const body = fixedBody(type, parsed.value);
      if (!body) return stop('WIRE_CORRUPT');
      frames.push(type === 'error' ? {type, id, ack, method, error: body} : {type, ack, [type]: body});
    } else if (type === 'request' || type === 'response') {
      frames.push({type, id, ack, method, json: parsed.value, binary: Buffer.from(binaryBytes)});
    } else {
      frames.push(type === 'bye' ? {type, ack} : {type, id, ack});
    }
    at += size;
  }
  return {frames, announced};
}

/** Header fields of a frame starting at `at`, with their limits and the values just past them. */
export function headerFields(at: number): Field[] {
  const limits = (max: number) => [0n, 1n, BigInt(max - 1), BigInt(max), BigInt(max + 1), U32_MAX];
  return [
    {name: 'magic', offset: at, size: 4, edges: [0x46574c4dn]},
    {name: 'version', offset: at + 4, size: 1, edges: [0n, 1n, 2n]},
    {name: 'type', offset: at + 5, size: 1, edges: [0n, 1n, 5n, 8n, 9n]},
    {name: 'method', offset: at + 6, size: 2, edges: [0n, 13n, 21n, 22n, 25n, 26n]},
    {name: 'id', offset: at + 8, size: 8, edges: [0n, SAFE_MAX, SAFE_MAX + 1n, U64_MAX]},
    {name: 'ack', offset: at + 16, size: 8, edges: [SAFE_MAX, SAFE_MAX + 1n]},
    {name: 'jsonLength', offset: at + 24, size: 4, edges: limits(MAX_JSON)},
    {name: 'binaryLength', offset: at + 28, size: 4, edges: limits(MAX_BINARY)},
    {name: 'flags', offset: at + 32, size: 2},
    {name: 'reserved', offset: at + 34, size: 2},
    {name: 'headerCrc', offset: at + 36, size: 4},
  ];
}

/** Walks the stream as its headers now say and makes their CRCs right, so the checks after them are reached. */
export function repairCrcs(stream: Buffer, header: boolean, body: boolean): void {
  let at = 0;
  while (at + HEADER <= stream.length && stream.readUInt32LE(at) === 0x46574c4d) {
    if (header) stream.writeUInt32LE(crc32cOf(stream.subarray(at, at + 36)), at + 36);
    const json = stream.readUInt32LE(at + 24);
    const binary = stream.readUInt32LE(at + 28);
    const end = at + HEADER + json + binary;
    if (end + TRAILER > stream.length) return;
    if (body) stream.writeUInt32LE(crc32cOf(stream.subarray(at + HEADER, end)), end);
    at = end + TRAILER;
  }
}
