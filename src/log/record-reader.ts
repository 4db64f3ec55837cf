// Reading one record at a place in a log volume, in either format version (docs/
// FORMAT.md §4.2 and §4.8): what the in-order reader (journal.ts) and the
// roll-forward after a lost header update (log-volume.ts) both need.
import {
  alignRecord, decodeRecordData, decodeRecordHeader, recordCrc, RECORD_HEADER_SIZE, RecordType, WRITE_DATA_HEADER, MAX_DATA_LENGTH,
  type LogHeaderFields, type LogRecord,
} from '../format/log-format.js';
import {
  badBlock, decodeHeaderV2, decodeMetaV2, headerCrcOf, metaLengthOfWrite, MAX_WRITE_BYTES, RECORD_HEADER_SIZE_V2, RecordTypeV2, TARGET_SIZE,
  type WriteLayoutV2,
} from '../format/log-record-v2.js';

/** Reads `length` bytes at `offset` of the volume (the result may be reused by the next call). */
export type ReadAt = (offset: number, length: number) => Buffer;

export interface ParsedRecord {
  record: LogRecord;
  /** Bytes the record occupies, padding included. */
  size: number;
  /** For a write: where its bytes start in the volume, how many, and (version 2) the CRC of each block. */
  dataOffset: number;
  dataLength: number;
  layout?: WriteLayoutV2;
  /** Whether the write's data was read and checked here (a mark's or a zero record's always is). */
  dataChecked: boolean;
}

/** Why a record cannot be used; `size` is known when reading may go on after it. */
export interface RecordDamage {
  reason: string;
  size?: number;
}

export type VolumeFormat = Pick<LogHeaderFields, 'version' | 'epoch' | 'blockSize'>;

/** The smallest record header of the volume's format. */
export function headerSizeOf(format: VolumeFormat): number {
  return format.version === 1 ? RECORD_HEADER_SIZE : RECORD_HEADER_SIZE_V2;
}

/**
 * The record at `at`, which must end by `limit`. `headersOnly`: a write's data is
 * neither read nor checked (version 2 still checks its header and block CRCs' CRC).
 */
export function parseRecord(read: ReadAt, at: number, limit: number, format: VolumeFormat, headersOnly: boolean): ParsedRecord | RecordDamage {
  return format.version === 1 ? parseV1(read, at, limit, headersOnly) : parseV2(read, at, limit, format, headersOnly);
}

function parseV1(read: ReadAt, at: number, limit: number, headersOnly: boolean): ParsedRecord | RecordDamage {
  if (limit - at < RECORD_HEADER_SIZE) return {reason: 'truncated record'};
  const peek = read(at, Math.min(limit - at, RECORD_HEADER_SIZE + (headersOnly ? WRITE_DATA_HEADER : 0)));
  const decoded = decodeRecordHeader(peek.subarray(0, RECORD_HEADER_SIZE));
  if ('reason' in decoded) return {reason: decoded.reason};
  const {frame} = decoded;
  const size = alignRecord(RECORD_HEADER_SIZE + frame.dataLength);
  if (at + size > limit) return {reason: 'truncated record'};
  const unchecked = headersOnly && frame.type === RecordType.write;
  const wanted = RECORD_HEADER_SIZE + (unchecked ? WRITE_DATA_HEADER : frame.dataLength);
  const whole = peek.length >= wanted ? peek.subarray(0, wanted) : read(at, wanted);
  const data = whole.subarray(RECORD_HEADER_SIZE);
  if (!unchecked && recordCrc(whole.subarray(0, RECORD_HEADER_SIZE), data) !== frame.crc) return {reason: 'checksum mismatch', size};
  const record = decodeRecordData(frame, data);
  if ('reason' in record) return {reason: record.reason, size};
  const dataOffset = at + RECORD_HEADER_SIZE + WRITE_DATA_HEADER;
  return {record, size, dataOffset, dataLength: frame.dataLength - WRITE_DATA_HEADER, dataChecked: !unchecked};
}

const MAX_DATA_V2 = Math.max(MAX_DATA_LENGTH, TARGET_SIZE + 4 * Math.ceil(MAX_WRITE_BYTES / 512) + MAX_WRITE_BYTES);

function parseV2(read: ReadAt, at: number, limit: number, format: VolumeFormat, headersOnly: boolean): ParsedRecord | RecordDamage {
  if (limit - at < RECORD_HEADER_SIZE_V2) return {reason: 'truncated record'};
  const peek = read(at, Math.min(limit - at, RECORD_HEADER_SIZE_V2 + TARGET_SIZE));
  const decoded = decodeHeaderV2(peek.subarray(0, RECORD_HEADER_SIZE_V2), MAX_DATA_V2);
  if ('reason' in decoded) return {reason: decoded.reason};
  const {frame} = decoded;
  // A record of the volume's earlier life (before its last format) is never current.
  if (frame.epoch !== format.epoch) return {reason: 'stale record'};
  const size = alignRecord(RECORD_HEADER_SIZE_V2 + frame.dataLength);
  if (at + size > limit) return {reason: 'truncated record'};
  let metaLength = frame.dataLength;
  if (frame.type === RecordTypeV2.write) {
    const fromTarget = peek.length >= RECORD_HEADER_SIZE_V2 + TARGET_SIZE ? metaLengthOfWrite(frame, peek.subarray(RECORD_HEADER_SIZE_V2), format.blockSize) : undefined;
    if (fromTarget === undefined) return {reason: 'bad record length'};
    metaLength = fromTarget;
  }
  const checkData = frame.type === RecordTypeV2.write && !headersOnly;
  const whole = read(at, RECORD_HEADER_SIZE_V2 + (checkData ? frame.dataLength : metaLength));
  const meta = whole.subarray(RECORD_HEADER_SIZE_V2, RECORD_HEADER_SIZE_V2 + metaLength);
  if (headerCrcOf(whole, meta) !== frame.headerCrc) return {reason: 'checksum mismatch', size};
  const decodedMeta = decodeMetaV2(frame, meta, format.blockSize);
  if ('reason' in decodedMeta) return {reason: decodedMeta.reason, size};
  const {record, layout} = decodedMeta;
  if (!layout) return {record, size, dataOffset: at + RECORD_HEADER_SIZE_V2, dataLength: 0, dataChecked: true};
  if (checkData) {
    const data = whole.subarray(layout.dataOffset, layout.dataOffset + layout.length);
    if (badBlock(data, layout) !== -1) return {reason: 'checksum mismatch', size};
    if (record.kind === 'write') record.data = data;
  }
  return {record, size, dataOffset: at + layout.dataOffset, dataLength: layout.length, layout, dataChecked: checkData};
}
