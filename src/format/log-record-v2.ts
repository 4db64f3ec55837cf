// Log records of format version 2: docs/FORMAT.md §4.8. The header has a CRC of its
// own, covering the header, the write's target and the CRC of each data block, so a
// reader can trust where every record's bytes are without reading them, and check
// only the blocks it uses. Zero records carry a range and no data. Every record
// carries its volume's epoch, so no record of the volume's earlier life passes for
// a current one.
import {crc32c} from './crc32c.js';
import {safeU64, viewOf, writeU64} from './u64.js';
import {decodeMarkData, encodeMarkData, MARK_DATA_FIXED, RECORD_ALIGN, RECORD_MAGIC, RecordType, type LogRecord} from './log-format.js';

export const RecordHeaderV2 = {
  markFlag: 0, // u8: 1 for a mark record, 0 otherwise
  type: 1, // u8: RecordTypeV2
  magic: 2, // u16 0x4C4D
  reserved1: 4, // u32 zero
  logId: 8, // u64
  timer: 16, // u64 µs since the Unix epoch, the log site's clock
  dataLength: 24, // u32 bytes after the header: the data area
  reserved2: 28, // u32 zero
  epoch: 32, // u64 the epoch of the volume the record was written in
  reserved3: 40, // u32 zero
  headerCrc: 44, // u32 CRC-32C of bytes 0..43, then the record's meta area
} as const;
export const RECORD_HEADER_SIZE_V2 = 48;

export const RecordTypeV2 = {...RecordType, zero: 0x5a} as const;

// §4.8.3 The target of a write or zero record: LDEV u32, reserved u32, address u64, length u64.
export const TARGET_SIZE = 24;
/** The longest write one record holds. */
export const MAX_WRITE_BYTES = 64 * 1024 * 1024;

export interface FrameV2 {
  type: number;
  logId: number;
  timer: number;
  dataLength: number;
  epoch: number;
  headerCrc: number;
}

/** Where a write record's parts lie, relative to the record's start. */
export interface WriteLayoutV2 {
  ldev: number;
  address: number;
  length: number;
  blockSize: number;
  /** The CRC-32C of each data block, in order. */
  blockCrcs: Uint32Array;
  /** Offset of the first data byte from the record's start. */
  dataOffset: number;
}

function blocksOf(length: number, blockSize: number): number {
  return Math.ceil(length / blockSize);
}

/** Bytes a record occupies, padding included. */
export function encodedSizeV2(record: LogRecord, blockSize: number): number {
  return align8(RECORD_HEADER_SIZE_V2 + dataLengthV2(record, blockSize));
}

function dataLengthV2(record: LogRecord, blockSize: number): number {
  if (record.kind === 'mark') return MARK_DATA_FIXED + Buffer.byteLength(record.app, 'utf8');
  if (record.kind === 'zero') return TARGET_SIZE;
  return TARGET_SIZE + 4 * blocksOf(record.data.length, blockSize) + record.data.length;
}

function align8(length: number): number {
  return Math.ceil(length / RECORD_ALIGN) * RECORD_ALIGN;
}

/** The CRC-32C of each block of `data`. */
export function blockCrcsOf(data: Uint8Array, blockSize: number): Uint32Array {
  const out = new Uint32Array(blocksOf(data.length, blockSize));
  for (let i = 0; i < out.length; i++) out[i] = crc32c(data.subarray(i * blockSize, Math.min(data.length, (i + 1) * blockSize)));
  return out;
}

/**
 * A record as the pieces that lie one after the other in the log: the header and
 * meta area, then (for a write) the host's buffer itself, then the padding.
 */
export function encodeRecordPiecesV2(record: LogRecord, epoch: number, blockSize: number): Buffer[] {
  const dataLength = dataLengthV2(record, blockSize);
  const size = align8(RECORD_HEADER_SIZE_V2 + dataLength);
  const metaLength = record.kind === 'write' ? TARGET_SIZE + 4 * blocksOf(record.data.length, blockSize) : dataLength;
  const head = Buffer.alloc(record.kind === 'write' ? RECORD_HEADER_SIZE_V2 + metaLength : size);
  head[RecordHeaderV2.markFlag] = record.kind === 'mark' ? 1 : 0;
  head[RecordHeaderV2.type] = RecordTypeV2[record.kind];
  head.writeUInt16LE(RECORD_MAGIC, RecordHeaderV2.magic);
  const view = viewOf(head);
  writeU64(view, record.logId, RecordHeaderV2.logId);
  writeU64(view, record.timer, RecordHeaderV2.timer);
  head.writeUInt32LE(dataLength, RecordHeaderV2.dataLength);
  writeU64(view, epoch, RecordHeaderV2.epoch);
  const meta = head.subarray(RECORD_HEADER_SIZE_V2, RECORD_HEADER_SIZE_V2 + metaLength);
  const metaView = viewOf(meta);
  if (record.kind === 'mark') {
    encodeMarkData(record, meta);
  } else {
    meta.writeUInt32LE(record.ldev, 0);
    writeU64(metaView, record.address, 8);
    writeU64(metaView, record.kind === 'zero' ? record.length : record.data.length, 16);
    if (record.kind === 'write') {
      const crcs = blockCrcsOf(record.data, blockSize);
      for (let i = 0; i < crcs.length; i++) meta.writeUInt32LE(crcs[i], TARGET_SIZE + 4 * i);
    }
  }
  head.writeUInt32LE(headerCrcOf(head, meta), RecordHeaderV2.headerCrc);
  if (record.kind !== 'write') return [head];
  const padding = size - head.length - record.data.length;
  return padding > 0 ? [head, record.data, Buffer.alloc(padding)] : [head, record.data];
}

export function encodeRecordV2(record: LogRecord, epoch: number, blockSize: number): Buffer {
  return Buffer.concat(encodeRecordPiecesV2(record, epoch, blockSize));
}

export function headerCrcOf(header: Uint8Array, meta: Uint8Array): number {
  return crc32c(meta, crc32c(header.subarray(0, RecordHeaderV2.headerCrc)));
}

/** Decodes the fixed header; reasons are the fixed strings of FORMAT.md §4.5 and §4.8.4. */
export function decodeHeaderV2(header: Buffer, maxData: number): {frame: FrameV2} | {reason: string} {
  if (header.length < RECORD_HEADER_SIZE_V2) return {reason: 'truncated record'};
  if (header.readUInt16LE(RecordHeaderV2.magic) !== RECORD_MAGIC) return {reason: 'bad record magic'};
  const type = header[RecordHeaderV2.type];
  const markFlag = header[RecordHeaderV2.markFlag];
  const known = type === RecordTypeV2.mark ? markFlag === 1 : (type === RecordTypeV2.write || type === RecordTypeV2.zero) && markFlag === 0;
  if (!known) return {reason: 'bad record type'};
  const dataLength = header.readUInt32LE(RecordHeaderV2.dataLength);
  const minimum = type === RecordTypeV2.mark ? MARK_DATA_FIXED : TARGET_SIZE;
  if (dataLength < minimum || dataLength > maxData || (type === RecordTypeV2.zero && dataLength !== TARGET_SIZE)) return {reason: 'bad record length'};
  const [logId, timer, epoch] = [RecordHeaderV2.logId, RecordHeaderV2.timer, RecordHeaderV2.epoch].map(at => header.readBigUInt64LE(at));
  if ([logId, timer, epoch].some(v => v > BigInt(Number.MAX_SAFE_INTEGER))) return {reason: 'bad record header'};
  return {frame: {type, logId: Number(logId), timer: Number(timer), dataLength, epoch: Number(epoch), headerCrc: header.readUInt32LE(RecordHeaderV2.headerCrc)}};
}

/** How many meta bytes follow the header: known from the header alone, except a write's (see metaLengthOfWrite). */
export function metaLengthV2(frame: FrameV2): number | undefined {
  return frame.type === RecordTypeV2.write ? undefined : frame.dataLength;
}

/** A write's meta length, from its target (the first TARGET_SIZE meta bytes); undefined when it cannot be. */
export function metaLengthOfWrite(frame: FrameV2, target: Buffer, blockSize: number): number | undefined {
  const length = safeU64(target, 16);
  if (length === undefined || length < 1 || length > MAX_WRITE_BYTES) return undefined;
  const meta = TARGET_SIZE + 4 * blocksOf(length, blockSize);
  return meta + length === frame.dataLength ? meta : undefined;
}

/** Decodes a record whose header CRC was checked; a write's data is not part of it. */
export function decodeMetaV2(frame: FrameV2, meta: Buffer, blockSize: number): {record: LogRecord; layout?: WriteLayoutV2} | {reason: string} {
  if (frame.type === RecordTypeV2.mark) {
    const record = decodeMarkData(frame.logId, frame.timer, meta);
    return 'reason' in record ? record : {record};
  }
  const ldev = meta.readUInt32LE(0);
  const address = safeU64(meta, 8);
  const length = safeU64(meta, 16);
  if (address === undefined || length === undefined || length < 1) return {reason: 'bad record header'};
  if (frame.type === RecordTypeV2.zero) return {record: {kind: 'zero', logId: frame.logId, timer: frame.timer, ldev, address, length}};
  const blockCrcs = new Uint32Array(blocksOf(length, blockSize));
  for (let i = 0; i < blockCrcs.length; i++) blockCrcs[i] = meta.readUInt32LE(TARGET_SIZE + 4 * i);
  return {
    record: {kind: 'write', logId: frame.logId, timer: frame.timer, ldev, address, data: Buffer.alloc(0)},
    layout: {ldev, address, length, blockSize, blockCrcs, dataOffset: RECORD_HEADER_SIZE_V2 + meta.length},
  };
}

/** The first block of `data` (the bytes of blocks `first`.. of a write) whose CRC differs, or -1. */
export function badBlock(data: Uint8Array, layout: WriteLayoutV2, first = 0): number {
  const {blockSize, blockCrcs, length} = layout;
  for (let i = 0; i * blockSize < data.length; i++) {
    const block = first + i;
    const end = Math.min(data.length, (i + 1) * blockSize, length - first * blockSize);
    if (crc32c(data.subarray(i * blockSize, end)) !== blockCrcs[block]) return block;
  }
  return -1;
}
