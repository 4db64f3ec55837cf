// Log volume layout and log records: docs/FORMAT.md §4. Every offset, size, magic
// and type value of the journal lives here; the writer and reader only call these.
import {crc32c} from './crc32c.js';
import {safeU64, viewOf, writeU64} from './u64.js';

// §4.1 Log volume header: two 4096-byte slots at the front of every log volume,
// written alternately; the valid one with the higher sequence is current.
export const LOG_MAGIC = Buffer.from('MARKLOG\0', 'ascii');
/** The version new log volumes are formatted with (§4.8); version 1 volumes stay readable. */
export const LOG_VERSION = 2;
export type LogVersion = 1 | 2;
export const LOG_HEADER_SIZE = 4096;
export const LOG_HEADER_SLOTS = 2;
/** Where records may start: after both header slots. */
export const LOG_DATA_START = LOG_HEADER_SIZE * LOG_HEADER_SLOTS;

export const LogHeader = {
  magic: 0, // 8 bytes "MARKLOG\0"
  version: 8, // u32
  headerSize: 12, // u32, 4096
  group: 16, // u32, log group number
  place: 20, // u32, this volume's place in the group (0 = first)
  ldev: 24, // u32, LDEV of this log volume at its site
  reserved1: 28, // u32 zero
  capacity: 32, // u64, bytes of the volume
  baseGeneration: 40, // u64, the base image generation the records apply to
  start: 48, // u64, offset of the first live record (== tail when empty)
  tail: 56, // u64, offset just past the last record
  records: 64, // u64, live records in this volume
  oldestLogId: 72, // u64   — log ID info (patent Fig. 11)
  oldestLogTime: 80, // u64
  oldestLogAddress: 88, // u64
  newestLogId: 96, // u64
  newestLogTime: 104, // u64
  newestLogAddress: 112, // u64
  oldestMarkId: 120, // u64 — mark ID info (patent Fig. 12)
  oldestMarkTime: 128, // u64
  oldestMarkAddress: 136, // u64
  newestMarkId: 144, // u64
  newestMarkTime: 152, // u64
  newestMarkAddress: 160, // u64
  marks: 168, // u64, live mark records in this volume
  siteId: 176, // 16 bytes, ASCII hex id of the site holding the log, zero padded
  wrap: 192, // u64, where the records before the wrap end; 0 when the volume has not wrapped
  sequence: 200, // u64, raised by every header update; it picks the slot: sequence mod 2
  crc: 208, // u32 CRC-32C of bytes 0..207
} as const;
export const LOG_HEADER_CRC_SPAN = LogHeader.crc;

// §4.8.1 What version 2 adds to the header: the log's epoch and the data block size
// of its records, with the CRC moved after them.
export const LogHeaderV2 = {
  epoch: 208, // u64, the volume's epoch: when it was formatted (µs), above any earlier one; every record carries it
  blockSize: 216, // u32, bytes per data block of a write record (one CRC-32C each)
  crc: 220, // u32 CRC-32C of bytes 0..219
} as const;
/** The data block size of version 2 write records. */
export const LOG_BLOCK_SIZE = 4096;

export interface LogHeaderFields {
  /** 1 for volumes an earlier marklog formatted; 2 for new ones. */
  version: LogVersion;
  /** Version 2: when the volume was formatted (µs), raised past any earlier epoch; 0 in version 1. */
  epoch: number;
  /** Version 2: bytes per data block of a write record; 0 in version 1. */
  blockSize: number;
  group: number;
  place: number;
  ldev: number;
  capacity: number;
  baseGeneration: number;
  start: number;
  tail: number;
  records: number;
  oldestLogId: number;
  oldestLogTime: number;
  oldestLogAddress: number;
  newestLogId: number;
  newestLogTime: number;
  newestLogAddress: number;
  oldestMarkId: number;
  oldestMarkTime: number;
  oldestMarkAddress: number;
  newestMarkId: number;
  newestMarkTime: number;
  newestMarkAddress: number;
  marks: number;
  siteId: string;
  wrap: number;
  sequence: number;
}

const U64_FIELDS = [
  'capacity', 'baseGeneration', 'start', 'tail', 'records',
  'oldestLogId', 'oldestLogTime', 'oldestLogAddress', 'newestLogId', 'newestLogTime', 'newestLogAddress',
  'oldestMarkId', 'oldestMarkTime', 'oldestMarkAddress', 'newestMarkId', 'newestMarkTime', 'newestMarkAddress', 'marks', 'wrap', 'sequence',
] as const;

export function encodeLogHeader(fields: LogHeaderFields): Buffer {
  const out = Buffer.alloc(LOG_HEADER_SIZE);
  encodeLogHeaderInto(fields, out);
  return out;
}

/**
 * Writes the header's fields and CRC (bytes 0–211) into a slot in place, leaving
 * the rest of it as it is (zero since the volume was formatted; ignored on read).
 */
export function encodeLogHeaderInto(fields: LogHeaderFields, out: Buffer): void {
  LOG_MAGIC.copy(out, LogHeader.magic);
  out.writeUInt32LE(fields.version, LogHeader.version);
  out.writeUInt32LE(LOG_HEADER_SIZE, LogHeader.headerSize);
  out.writeUInt32LE(fields.group, LogHeader.group);
  out.writeUInt32LE(fields.place, LogHeader.place);
  out.writeUInt32LE(fields.ldev, LogHeader.ldev);
  // One line a field (not a loop over names): this runs for every logged write.
  const view = viewOf(out);
  writeU64(view, fields.capacity, LogHeader.capacity);
  writeU64(view, fields.baseGeneration, LogHeader.baseGeneration);
  writeU64(view, fields.start, LogHeader.start);
  writeU64(view, fields.tail, LogHeader.tail);
  writeU64(view, fields.records, LogHeader.records);
  writeU64(view, fields.oldestLogId, LogHeader.oldestLogId);
  writeU64(view, fields.oldestLogTime, LogHeader.oldestLogTime);
  writeU64(view, fields.oldestLogAddress, LogHeader.oldestLogAddress);
  writeU64(view, fields.newestLogId, LogHeader.newestLogId);
  writeU64(view, fields.newestLogTime, LogHeader.newestLogTime);
  writeU64(view, fields.newestLogAddress, LogHeader.newestLogAddress);
  writeU64(view, fields.oldestMarkId, LogHeader.oldestMarkId);
  writeU64(view, fields.oldestMarkTime, LogHeader.oldestMarkTime);
  writeU64(view, fields.oldestMarkAddress, LogHeader.oldestMarkAddress);
  writeU64(view, fields.newestMarkId, LogHeader.newestMarkId);
  writeU64(view, fields.newestMarkTime, LogHeader.newestMarkTime);
  writeU64(view, fields.newestMarkAddress, LogHeader.newestMarkAddress);
  writeU64(view, fields.marks, LogHeader.marks);
  writeU64(view, fields.wrap, LogHeader.wrap);
  writeU64(view, fields.sequence, LogHeader.sequence);
  out.fill(0, LogHeader.siteId, LogHeader.siteId + 16);
  out.write(fields.siteId.slice(0, 16), LogHeader.siteId, 'latin1');
  if (fields.version === 1) {
    out.writeUInt32LE(crc32c(out.subarray(0, LOG_HEADER_CRC_SPAN)), LogHeader.crc);
    return;
  }
  writeU64(view, fields.epoch, LogHeaderV2.epoch);
  out.writeUInt32LE(fields.blockSize, LogHeaderV2.blockSize);
  out.writeUInt32LE(crc32c(out.subarray(0, LogHeaderV2.crc)), LogHeaderV2.crc);
}

/** The byte offset of the slot a header with this sequence is written to. */
export function logHeaderSlotOffset(sequence: number): number {
  return (sequence % LOG_HEADER_SLOTS) * LOG_HEADER_SIZE;
}

/**
 * Decodes both slots of a volume's front (LOG_DATA_START bytes) and returns the
 * valid header with the higher sequence. A slot torn by a crash fails its CRC and
 * the other, one update older, stands.
 */
export function pickLogHeader(front: Buffer): {fields: LogHeaderFields} | {reason: string} {
  const decoded = Array.from({length: LOG_HEADER_SLOTS}, (_, slot) =>
    decodeLogHeader(front.subarray(slot * LOG_HEADER_SIZE, (slot + 1) * LOG_HEADER_SIZE), slot));
  const valid = decoded.filter((d): d is {fields: LogHeaderFields} => 'fields' in d);
  if (valid.length === 0) return decoded[0];
  return valid.reduce((best, next) => (next.fields.sequence > best.fields.sequence ? next : best));
}

/** Decodes one header slot; `slot` is where it was read from (its sequence must agree). */
export function decodeLogHeader(source: Buffer, slot = 0): {fields: LogHeaderFields} | {reason: string} {
  if (source.length < LOG_HEADER_SIZE) return {reason: 'volume shorter than a log header'};
  if (!source.subarray(0, 8).equals(LOG_MAGIC)) return {reason: 'not a log volume (bad magic)'};
  const version = source.readUInt32LE(LogHeader.version);
  const crcAt = version === 1 ? LogHeader.crc : LogHeaderV2.crc;
  if (crc32c(source.subarray(0, crcAt)) !== source.readUInt32LE(crcAt)) return {reason: 'header checksum mismatch'};
  if (version !== 1 && version !== 2) return {reason: `unknown log format version ${version}`};
  if (source.readUInt32LE(LogHeader.headerSize) !== LOG_HEADER_SIZE) return {reason: 'bad header size'};
  const epoch = version === 1 ? 0 : safeU64(source, LogHeaderV2.epoch);
  const blockSize = version === 1 ? 0 : source.readUInt32LE(LogHeaderV2.blockSize);
  if (epoch === undefined) return {reason: 'epoch out of range'};
  if (version === 2 && (blockSize < 512 || blockSize > 1 << 20 || (blockSize & (blockSize - 1)) !== 0)) return {reason: 'bad block size'};
  const fields = {
    version, epoch, blockSize,
    group: source.readUInt32LE(LogHeader.group),
    place: source.readUInt32LE(LogHeader.place),
    ldev: source.readUInt32LE(LogHeader.ldev),
    siteId: source.toString('latin1', LogHeader.siteId, LogHeader.siteId + 16).replace(/\0+$/, ''),
  } as LogHeaderFields;
  for (const name of U64_FIELDS) {
    const value = safeU64(source, LogHeader[name]);
    if (value === undefined) return {reason: `${name} out of range`};
    fields[name] = value;
  }
  const inOrder = fields.wrap === 0
    ? LOG_DATA_START <= fields.start && fields.start <= fields.tail && fields.tail <= fields.capacity
    : LOG_DATA_START <= fields.tail && fields.tail <= fields.start && fields.start < fields.wrap && fields.wrap <= fields.capacity;
  if (!inOrder) return {reason: 'start/tail outside the volume'};
  if (fields.sequence % LOG_HEADER_SLOTS !== slot) return {reason: 'header in the wrong slot'};
  return {fields};
}

// §4.2 Records. The patent's fields come first and in its order (Fig. 13).
export const RecordHeader = {
  markFlag: 0, // u8: 1 for a mark record, 0 otherwise
  type: 1, // u8: RecordType
  magic: 2, // u16 0x4C4D ("ML" read as bytes 4D 4C)
  reserved: 4, // u32 zero
  logId: 8, // u64
  timer: 16, // u64 µs since the Unix epoch, the log site's clock
  dataLength: 24, // u32 bytes in the data area
  crc: 28, // u32 CRC-32C of bytes 0..27 then the data area
} as const;
export const RECORD_HEADER_SIZE = 32;
export const RECORD_MAGIC = 0x4c4d;
export const RECORD_ALIGN = 8;

export const RecordType = {write: 0x57, mark: 0x4d} as const;

// §4.3 Write data area: target LDEV u32, reserved u32, address u64, then the data.
export const WRITE_DATA_HEADER = 16;
// §4.4 Mark data area: log volume address u64, mark ID u64, mark time u64 (µs),
// application identifier length u16, then that many bytes of UTF-8.
export const MARK_DATA_FIXED = 26;
/** §4.4, §1: the largest mark ID a mark record holds (a reader refuses a larger u64). */
export const MAX_RECORD_MARK_ID = Number.MAX_SAFE_INTEGER;
export const MAX_APP_BYTES = 255;
/** The largest data area a record may declare; a longer length field is corruption. */
export const MAX_DATA_LENGTH = 64 * 1024 * 1024 + WRITE_DATA_HEADER;

export interface WriteRecord {
  kind: 'write';
  logId: number;
  timer: number;
  ldev: number;
  address: number;
  data: Buffer;
}

export interface MarkRecord {
  kind: 'mark';
  logId: number;
  timer: number;
  logAddress: number;
  markId: number;
  markTime: number;
  app: string;
}

/** Format version 2 only (§4.8.3): a range of the target that reads as zeros, with no data. */
export interface ZeroRecord {
  kind: 'zero';
  logId: number;
  timer: number;
  ldev: number;
  address: number;
  length: number;
}

export type LogRecord = WriteRecord | MarkRecord | ZeroRecord;

export function alignRecord(length: number): number {
  return Math.ceil(length / RECORD_ALIGN) * RECORD_ALIGN;
}

function dataLengthOf(record: LogRecord): number {
  if (record.kind === 'zero') throw new Error('a zero record needs log format version 2');
  return record.kind === 'write' ? WRITE_DATA_HEADER + record.data.length : MARK_DATA_FIXED + Buffer.byteLength(record.app, 'utf8');
}

/** Bytes the record occupies in the log, padding included. */
export function encodedSize(record: LogRecord): number {
  return alignRecord(RECORD_HEADER_SIZE + dataLengthOf(record));
}

export function encodeRecord(record: LogRecord): Buffer {
  return Buffer.concat(encodeRecordPieces(record));
}

/**
 * A record as the pieces that lie one after the other in the log: for a write,
 * the headers, the host's data buffer itself (not copied: a 1 MiB write would
 * otherwise be copied once more before reaching the log) and the padding.
 */
export function encodeRecordPieces(record: LogRecord): Buffer[] {
  if (record.kind === 'zero') throw new Error('a zero record needs log format version 2');
  const dataLength = dataLengthOf(record);
  const size = alignRecord(RECORD_HEADER_SIZE + dataLength);
  const fixed = record.kind === 'write' ? RECORD_HEADER_SIZE + WRITE_DATA_HEADER : size;
  const out = Buffer.alloc(fixed);
  out[RecordHeader.markFlag] = record.kind === 'mark' ? 1 : 0;
  out[RecordHeader.type] = record.kind === 'mark' ? RecordType.mark : RecordType.write;
  out.writeUInt16LE(RECORD_MAGIC, RecordHeader.magic);
  const view = viewOf(out);
  writeU64(view, record.logId, RecordHeader.logId);
  writeU64(view, record.timer, RecordHeader.timer);
  out.writeUInt32LE(dataLength, RecordHeader.dataLength);
  const data = out.subarray(RECORD_HEADER_SIZE);
  const dataView = viewOf(data);
  if (record.kind === 'mark') {
    encodeMarkData(record, data);
    out.writeUInt32LE(recordCrc(out, data.subarray(0, dataLength)), RecordHeader.crc);
    return [out];
  }
  data.writeUInt32LE(record.ldev, 0);
  writeU64(dataView, record.address, 8);
  out.writeUInt32LE(crc32c(record.data, recordCrc(out, data)), RecordHeader.crc);
  const padding = size - fixed - record.data.length;
  return padding > 0 ? [out, record.data, Buffer.alloc(padding)] : [out, record.data];
}

/** §4.4 A mark's data area (the same in format 2), written at the start of `out`. */
export function encodeMarkData(record: MarkRecord, out: Buffer): void {
  const view = viewOf(out);
  writeU64(view, record.logAddress, 0);
  writeU64(view, record.markId, 8);
  writeU64(view, record.markTime, 16);
  out.writeUInt16LE(Buffer.byteLength(record.app, 'utf8'), 24);
  out.write(record.app, MARK_DATA_FIXED, 'utf8');
}

export function recordCrc(header: Buffer, data: Buffer): number {
  return crc32c(data, crc32c(header.subarray(0, RecordHeader.crc)));
}

export interface RecordFrame {
  markFlag: number;
  type: number;
  logId: number;
  timer: number;
  dataLength: number;
  crc: number;
}

/** Decodes the fixed record header; the reason is one of the fixed strings in FORMAT.md §4.5. */
export function decodeRecordHeader(header: Buffer): {frame: RecordFrame} | {reason: string} {
  if (header.length < RECORD_HEADER_SIZE) return {reason: 'truncated record'};
  if (header.readUInt16LE(RecordHeader.magic) !== RECORD_MAGIC) return {reason: 'bad record magic'};
  const type = header[RecordHeader.type];
  const markFlag = header[RecordHeader.markFlag];
  if (!((type === RecordType.write && markFlag === 0) || (type === RecordType.mark && markFlag === 1))) return {reason: 'bad record type'};
  const dataLength = header.readUInt32LE(RecordHeader.dataLength);
  const minimum = type === RecordType.write ? WRITE_DATA_HEADER : MARK_DATA_FIXED;
  if (dataLength < minimum || dataLength > MAX_DATA_LENGTH) return {reason: 'bad record length'};
  const logId = safeU64(header, RecordHeader.logId);
  const timer = safeU64(header, RecordHeader.timer);
  if (logId === undefined || timer === undefined) return {reason: 'bad record header'};
  return {frame: {markFlag, type, logId, timer, dataLength, crc: header.readUInt32LE(RecordHeader.crc)}};
}

/** Decodes a data area whose CRC has been checked. */
export function decodeRecordData(frame: RecordFrame, data: Buffer): LogRecord | {reason: string} {
  if (frame.type === RecordType.write) {
    const address = safeU64(data, 8);
    if (address === undefined) return {reason: 'bad record header'};
    return {kind: 'write', logId: frame.logId, timer: frame.timer, ldev: data.readUInt32LE(0), address, data: data.subarray(WRITE_DATA_HEADER)};
  }
  return decodeMarkData(frame.logId, frame.timer, data);
}

/** §4.4 A mark's data area (the same in format 2), checked or not; `data` is exactly dataLength bytes. */
export function decodeMarkData(logId: number, timer: number, data: Buffer): MarkRecord | {reason: string} {
  const appLength = data.readUInt16LE(24);
  if (appLength > MAX_APP_BYTES || MARK_DATA_FIXED + appLength !== data.length) return {reason: 'bad record length'};
  const [logAddress, markId, markTime] = [0, 8, 16].map(at => safeU64(data, at));
  if (logAddress === undefined || markId === undefined || markTime === undefined) return {reason: 'bad record header'};
  let app: string;
  try {
    app = STRICT_UTF8.decode(data.subarray(MARK_DATA_FIXED));
  } catch {
    return {reason: 'bad record header'};
  }
  return {kind: 'mark', logId, timer, logAddress, markId, markTime, app};
}

const STRICT_UTF8 = new TextDecoder('utf-8', {fatal: true});
