// An independent reading of docs/FORMAT.md §2.4 and §4 (log volume header, record
// frame, write and mark data areas, bitmap header): what a byte string *should* mean
// according to the page alone. The fuzz tests compare marklog's decoders with it.
// Nothing here imports marklog's codecs.
import {crc32cOf} from './fuzz.js';

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

// §4.2 record frame.
export const REC = {markFlag: 0, type: 1, magic: 2, reserved: 4, logId: 8, timer: 16, dataLength: 24, crc: 28, size: 32} as const;
export const TYPE_WRITE = 0x57;
export const TYPE_MARK = 0x4d;
export const MAX_DATA = 67_108_880;
export const WRITE_MIN = 16;
export const MARK_MIN = 26;

export function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

export type SpecFrame = {ok: true; kind: 'write' | 'mark'; logId: bigint; timer: bigint; dataLength: number; crc: number} | {ok: false; why: string};

/** §4.2: is this 32-byte header a valid record header? */
export function specFrame(bytes: Buffer): SpecFrame {
  if (bytes.length < REC.size) return {ok: false, why: 'truncated'};
  if (bytes[REC.magic] !== 0x4d || bytes[REC.magic + 1] !== 0x4c) return {ok: false, why: 'magic'};
  const flag = bytes[REC.markFlag];
  const type = bytes[REC.type];
  let kind: 'write' | 'mark';
  if (flag === 0 && type === TYPE_WRITE) kind = 'write';
  else if (flag === 1 && type === TYPE_MARK) kind = 'mark';
  else return {ok: false, why: 'type'};
  const dataLength = bytes.readUInt32LE(REC.dataLength);
  if (dataLength < (kind === 'write' ? WRITE_MIN : MARK_MIN) || dataLength > MAX_DATA) return {ok: false, why: 'length'};
  const logId = bytes.readBigUInt64LE(REC.logId);
  const timer = bytes.readBigUInt64LE(REC.timer);
  // §1: marklog never writes a u64 above 2^53 − 1; a reader treats a larger one as corruption.
  if (logId > SAFE || timer > SAFE) return {ok: false, why: 'header'};
  return {ok: true, kind, logId, timer, dataLength, crc: bytes.readUInt32LE(REC.crc)};
}

/** §4.2: the CRC over header bytes 0..27 then the data area. */
export function specCrcOk(header: Buffer, data: Buffer): boolean {
  return crc32cOf(header.subarray(0, REC.crc), data) === header.readUInt32LE(REC.crc);
}

export type SpecData =
  | {ok: true; kind: 'write'; ldev: number; address: bigint; data: Buffer}
  | {ok: true; kind: 'mark'; logAddress: bigint; markId: bigint; markTime: bigint; app: Buffer; utf8: boolean}
  | {ok: false; why: string};

/** §4.3 / §4.4: is this data area valid for its kind? (`data` is exactly dataLength bytes.) */
export function specData(kind: 'write' | 'mark', data: Buffer): SpecData {
  if (kind === 'write') {
    const address = data.readBigUInt64LE(8);
    if (address > SAFE) return {ok: false, why: 'address above 2^53-1'};
    return {ok: true, kind, ldev: data.readUInt32LE(0), address, data: data.subarray(WRITE_MIN)};
  }
  const logAddress = data.readBigUInt64LE(0);
  const markId = data.readBigUInt64LE(8);
  const markTime = data.readBigUInt64LE(16);
  const appLength = data.readUInt16LE(24);
  if (appLength > 255) return {ok: false, why: 'application identifier longer than 255 bytes'};
  if (MARK_MIN + appLength !== data.length) return {ok: false, why: '26 + k differs from dataLength'};
  if (logAddress > SAFE || markId > SAFE || markTime > SAFE) return {ok: false, why: 'u64 above 2^53-1'};
  const app = data.subarray(MARK_MIN);
  let utf8 = true;
  try {
    new TextDecoder('utf-8', {fatal: true}).decode(app);
  } catch {
    utf8 = false;
  }
  return {ok: true, kind, logAddress, markId, markTime, app, utf8};
}

// §4.1 log volume header: two 4096-byte slots; records start at 8192.
export const LOG_HEADER = 4096;
export const LOG_DATA_START = 8192;
export const HDR = {
  magic: 0, version: 8, headerSize: 12, group: 16, place: 20, ldev: 24, reserved1: 28, capacity: 32, baseGeneration: 40,
  start: 48, tail: 56, records: 64, oldestLogId: 72, oldestLogTime: 80, oldestLogAddress: 88, newestLogId: 96,
  newestLogTime: 104, newestLogAddress: 112, oldestMarkId: 120, oldestMarkTime: 128, oldestMarkAddress: 136,
  newestMarkId: 144, newestMarkTime: 152, newestMarkAddress: 160, marks: 168, siteId: 176, wrap: 192, sequence: 200, crc: 208,
} as const;
/** §4.8.1: what version 2 adds to the header. */
export const HDR_V2 = {epoch: 208, blockSize: 216, crc: 220} as const;
/** First byte after the CRC: bytes from here to 4095 are ignored. */
export const HDR_END = HDR.crc + 4;
export const HDR_U64 = [
  'capacity', 'baseGeneration', 'start', 'tail', 'records', 'oldestLogId', 'oldestLogTime', 'oldestLogAddress', 'newestLogId',
  'newestLogTime', 'newestLogAddress', 'oldestMarkId', 'oldestMarkTime', 'oldestMarkAddress', 'newestMarkId', 'newestMarkTime',
  'newestMarkAddress', 'marks', 'wrap', 'sequence',
] as const;
export const HDR_U32 = ['version', 'headerSize', 'group', 'place', 'ldev', 'reserved1'] as const;

export type SpecHeader = {ok: true; version: number; epoch: number; blockSize: number; start: number; tail: number; wrap: number; records: number; capacity: number; sequence: number} | {ok: false; why: string};

/** One header slot, read from slot `slot` (0 or 1). */
export function specLogHeader(bytes: Buffer, slot = 0): SpecHeader {
  if (bytes.length < LOG_HEADER) return {ok: false, why: 'short'};
  if (!bytes.subarray(0, 8).equals(Buffer.from('MARKLOG\0', 'ascii'))) return {ok: false, why: 'magic'};
  const version = bytes.readUInt32LE(HDR.version);
  // §4.8.1: version 2 puts its epoch and block size where version 1 has its CRC, and the CRC after them.
  const crcAt = version === 2 ? HDR_V2.crc : HDR.crc;
  if (crc32cOf(bytes.subarray(0, crcAt)) !== bytes.readUInt32LE(crcAt)) return {ok: false, why: 'crc'};
  if (version !== 1 && version !== 2) return {ok: false, why: 'version'};
  if (bytes.readUInt32LE(HDR.headerSize) !== LOG_HEADER) return {ok: false, why: 'header size'};
  for (const name of HDR_U64) if (bytes.readBigUInt64LE(HDR[name]) > SAFE) return {ok: false, why: `${name} above 2^53-1`};
  const n = (name: (typeof HDR_U64)[number]) => Number(bytes.readBigUInt64LE(HDR[name]));
  const [start, tail, wrap, capacity, sequence] = [n('start'), n('tail'), n('wrap'), n('capacity'), n('sequence')];
  if (sequence % 2 !== slot) return {ok: false, why: 'wrong slot'};
  const inOrder = wrap === 0
    ? LOG_DATA_START <= start && start <= tail && tail <= capacity
    : LOG_DATA_START <= tail && tail <= start && start < wrap && wrap <= capacity;
  if (!inOrder) return {ok: false, why: 'order'};
  // §4.8.1: the epoch is a u64 like the others; the block size a power of two from 512 to 1 MiB.
  if (version === 2 && bytes.readBigUInt64LE(HDR_V2.epoch) > SAFE) return {ok: false, why: 'epoch above 2^53-1'};
  const epoch = version === 2 ? Number(bytes.readBigUInt64LE(HDR_V2.epoch)) : 0;
  const blockSize = version === 2 ? bytes.readUInt32LE(HDR_V2.blockSize) : 0;
  if (version === 2 && !(blockSize >= 512 && blockSize <= 1 << 20 && (blockSize & (blockSize - 1)) === 0)) return {ok: false, why: 'block size'};
  return {ok: true, version, epoch, blockSize, start, tail, wrap, records: n('records'), capacity, sequence};
}

/** §4.1: the valid slot with the higher sequence, or none. */
export function specCurrentHeader(front: Buffer): (Extract<SpecHeader, {ok: true}> & {slot: number}) | {ok: false; why: string} {
  const slots = [0, 1].map(slot => ({slot, h: specLogHeader(front.subarray(slot * LOG_HEADER, (slot + 1) * LOG_HEADER), slot)}));
  const valid = slots.filter(s => s.h.ok) as {slot: number; h: Extract<SpecHeader, {ok: true}>}[];
  if (valid.length === 0) return {ok: false, why: `slot 0: ${(slots[0].h as {why: string}).why}, slot 1: ${(slots[1].h as {why: string}).why}`};
  const best = valid.reduce((a, b) => (b.h.sequence > a.h.sequence ? b : a));
  return {...best.h, slot: best.slot};
}

/** A record as it lies in a log volume: where, how long, which bytes the CRC covers. */
export interface SpecRecord {
  offset: number;
  /** Bytes the record occupies, padding included. */
  size: number;
  /** Bytes the CRC covers end here (header + data, padding excluded). */
  crcEnd: number;
  kind: 'write' | 'mark' | 'zero';
  logId: number;
  /** For a write: target LDEV, address and the written bytes (a zero record: its length). */
  ldev?: number;
  address?: number;
  data?: Buffer;
  length?: number;
  /** For a mark. */
  markId?: number;
  app?: string;
}

/** The live ranges of a volume (§4: [start, tail) or [start, wrap) then [8192, tail)); none when records is 0. */
export function liveRanges(h: Extract<SpecHeader, {ok: true}>): {from: number; to: number}[] {
  if (h.records === 0) return [];
  return h.wrap === 0 ? [{from: h.start, to: h.tail}] : [{from: h.start, to: h.wrap}, {from: LOG_DATA_START, to: h.tail}];
}

/**
 * Where the records of a lost header update can lie (§4.5): from the tail on, or,
 * for a record that did not fit there, wrapped to the front before `start`.
 */
export function afterTailRanges(h: Extract<SpecHeader, {ok: true}>): {from: number; to: number}[] {
  if (h.records === 0) return [{from: LOG_DATA_START, to: h.capacity}];
  return h.wrap !== 0 ? [{from: h.tail, to: h.start}] : [{from: h.tail, to: h.capacity}, {from: LOG_DATA_START, to: h.start}];
}

/**
 * Walks an undamaged log volume image per §4, checking every CRC; throws on anything
 * unexpected (it is only used on images the fixture just wrote).
 */
export function walkLog(image: Buffer): {header: Extract<SpecHeader, {ok: true}> & {slot: number}; records: SpecRecord[]} {
  const header = specCurrentHeader(image);
  if (!header.ok) throw new Error(`fixture log header is invalid: ${header.why}`);
  const records: SpecRecord[] = [];
  if (header.version === 2) return {header, records: walkV2(image, header)};
  for (const {from, to} of liveRanges(header)) {
    for (let offset = from; offset < to;) {
      const frame = specFrame(image.subarray(offset, offset + REC.size));
      if (!frame.ok) throw new Error(`fixture record at ${offset} is invalid: ${frame.why}`);
      const data = image.subarray(offset + REC.size, offset + REC.size + frame.dataLength);
      if (!specCrcOk(image.subarray(offset, offset + REC.size), data)) throw new Error(`fixture record at ${offset} fails its CRC`);
      const body = specData(frame.kind, data);
      if (!body.ok) throw new Error(`fixture record at ${offset}: ${body.why}`);
      const size = align8(REC.size + frame.dataLength);
      const record: SpecRecord = {offset, size, crcEnd: offset + REC.size + frame.dataLength, kind: frame.kind, logId: Number(frame.logId)};
      if (body.kind === 'write') Object.assign(record, {ldev: body.ldev, address: Number(body.address), data: Buffer.from(body.data)});
      else Object.assign(record, {markId: Number(body.markId), app: body.app.toString('utf8')});
      records.push(record);
      offset += size;
    }
  }
  return {header, records};
}

// §4.8.2–4.8.4 records of version 2: a 48-byte header with its own CRC over the
// header and the meta area (a write's target and block CRCs; a zero record's target;
// a mark's whole data area), the epoch of the volume, and a CRC per data block.
export const REC_V2 = {markFlag: 0, type: 1, magic: 2, logId: 8, timer: 16, dataLength: 24, epoch: 32, headerCrc: 44, size: 48} as const;
export const TYPE_ZERO = 0x5a;

function walkV2(image: Buffer, header: Extract<SpecHeader, {ok: true}>): SpecRecord[] {
  const records: SpecRecord[] = [];
  for (const {from, to} of liveRanges(header)) {
    for (let offset = from; offset < to;) {
      const at = (field: number) => offset + field;
      if (image[at(REC_V2.magic)] !== 0x4d || image[at(REC_V2.magic) + 1] !== 0x4c) throw new Error(`fixture record at ${offset}: magic`);
      const type = image[at(REC_V2.type)];
      const kind = type === TYPE_WRITE ? 'write' : type === TYPE_MARK ? 'mark' : type === TYPE_ZERO ? 'zero' : undefined;
      if (!kind || image[at(REC_V2.markFlag)] !== (kind === 'mark' ? 1 : 0)) throw new Error(`fixture record at ${offset}: type`);
      if (Number(image.readBigUInt64LE(at(REC_V2.epoch))) !== header.epoch) throw new Error(`fixture record at ${offset}: epoch`);
      const dataLength = image.readUInt32LE(at(REC_V2.dataLength));
      const body = offset + REC_V2.size;
      let meta = dataLength;
      let length = 0;
      if (kind !== 'mark') {
        length = Number(image.readBigUInt64LE(body + 16));
        if (kind === 'write') meta = 24 + 4 * Math.ceil(length / header.blockSize);
        if (meta + (kind === 'write' ? length : 0) !== dataLength) throw new Error(`fixture record at ${offset}: length`);
      }
      const crc = crc32cOf(image.subarray(offset, at(REC_V2.headerCrc)), image.subarray(body, body + meta));
      if (crc !== image.readUInt32LE(at(REC_V2.headerCrc))) throw new Error(`fixture record at ${offset} fails its header CRC`);
      const record: SpecRecord = {offset, size: align8(REC_V2.size + dataLength), crcEnd: body + dataLength, kind, logId: Number(image.readBigUInt64LE(at(REC_V2.logId)))};
      if (kind === 'mark') {
        const appLength = image.readUInt16LE(body + 24);
        Object.assign(record, {markId: Number(image.readBigUInt64LE(body + 8)), app: image.toString('utf8', body + 26, body + 26 + appLength)});
      } else {
        Object.assign(record, {ldev: image.readUInt32LE(body), address: Number(image.readBigUInt64LE(body + 8)), length});
        if (kind === 'write') {
          const data = image.subarray(body + meta, body + meta + length);
          for (let block = 0; block * header.blockSize < length; block++) {
            const piece = data.subarray(block * header.blockSize, Math.min(length, (block + 1) * header.blockSize));
            if (crc32cOf(piece) !== image.readUInt32LE(body + 24 + 4 * block)) throw new Error(`fixture record at ${offset}: block ${block} fails its CRC`);
          }
          record.data = Buffer.from(data);
        }
      }
      records.push(record);
      offset += record.size;
    }
  }
  return records;
}

// §2 bitmap header.
export const BMP = {magic: 0, version: 8, chunkSize: 12, capacity: 16, chunkCount: 24, copyPointer: 32, reserved: 40, crc: 60, size: 64} as const;

export type SpecBitmap = {ok: true; chunkSize: number; capacity: bigint; chunkCount: bigint; copyPointer: bigint} | {ok: false; why: string};

export function specBitmapCrc(bytes: Buffer): number {
  return crc32cOf(bytes.subarray(0, BMP.copyPointer), bytes.subarray(BMP.reserved, BMP.crc));
}

/** §2.4 (checks in order) plus §1 (a u64 above 2^53 − 1 is corruption). */
export function specBitmap(bytes: Buffer): SpecBitmap {
  if (bytes.length < BMP.size) return {ok: false, why: 'file shorter than its header'};
  if (!bytes.subarray(0, 8).equals(Buffer.from('MLBITMAP', 'ascii'))) return {ok: false, why: 'bad magic'};
  if (specBitmapCrc(bytes) !== bytes.readUInt32LE(BMP.crc)) return {ok: false, why: 'header checksum mismatch'};
  if (bytes.readUInt32LE(BMP.version) !== 1) return {ok: false, why: 'unknown version'};
  const chunkSize = bytes.readUInt32LE(BMP.chunkSize);
  const capacity = bytes.readBigUInt64LE(BMP.capacity);
  const chunkCount = bytes.readBigUInt64LE(BMP.chunkCount);
  const copyPointer = bytes.readBigUInt64LE(BMP.copyPointer);
  if (capacity > SAFE || chunkCount > SAFE || copyPointer > SAFE) return {ok: false, why: 'u64 above 2^53-1'};
  if (chunkSize === 0 || chunkCount !== (capacity + BigInt(chunkSize) - 1n) / BigInt(chunkSize)) return {ok: false, why: 'geometry does not add up'};
  if (copyPointer > chunkCount) return {ok: false, why: 'copy pointer past the end'};
  if (BigInt(bytes.length) < 64n + (chunkCount + 7n) / 8n) return {ok: false, why: 'file shorter than its bits'};
  return {ok: true, chunkSize, capacity, chunkCount, copyPointer};
}
