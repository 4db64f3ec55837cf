import test from 'ava';
import {
  decodeLogHeader, decodeRecordData, decodeRecordHeader, encodeLogHeader, encodeRecord, logHeaderSlotOffset, pickLogHeader, recordCrc,
  LOG_DATA_START, RECORD_HEADER_SIZE,
} from '../../src/format/log-format.js';

/** The worked examples of docs/FORMAT.md §4.7, copied byte for byte. */
function hex(dump: string): Buffer {
  return Buffer.from(dump.trim().split('\n').map(line => line.slice(6)).join(' ').replaceAll(' ', ''), 'hex');
}

const WRITE_EXAMPLE = hex(`
0000  00 57 4d 4c 00 00 00 00 07 00 00 00 00 00 00 00
0010  00 10 eb 04 6a 44 06 00 20 00 00 00 95 24 94 75
0020  03 00 00 00 00 00 00 00 00 00 10 00 00 00 00 00
0030  68 65 6c 6c 6f 2c 20 6d 61 72 6b 6c 6f 67 21 21
`);

const MARK_EXAMPLE = hex(`
0000  01 4d 4d 4c 00 00 00 00 08 00 00 00 00 00 00 00
0010  20 b1 f2 04 6a 44 06 00 1f 00 00 00 6b 51 59 d9
0020  40 10 00 00 00 00 00 00 02 00 00 00 00 00 00 00
0030  80 2a f1 04 6a 44 06 00 05 00 70 67 73 71 6c 00
`);

function decode(bytes: Buffer) {
  const header = decodeRecordHeader(bytes.subarray(0, RECORD_HEADER_SIZE));
  if ('reason' in header) throw new Error(header.reason);
  const data = bytes.subarray(RECORD_HEADER_SIZE, RECORD_HEADER_SIZE + header.frame.dataLength);
  return {frame: header.frame, crcOk: recordCrc(bytes, data) === header.frame.crc, record: decodeRecordData(header.frame, data)};
}

test('FORMAT.md §4.7: the worked write record decodes field by field', t => {
  const {frame, crcOk, record} = decode(WRITE_EXAMPLE);
  t.true(crcOk);
  t.is(frame.markFlag, 0);
  t.is(frame.dataLength, 32);
  t.deepEqual(record, {kind: 'write', logId: 7, timer: 1_764_072_000_000_000, ldev: 3, address: 1_048_576, data: Buffer.from('hello, marklog!!')});
});

test('FORMAT.md §4.7: the worked mark record decodes field by field', t => {
  const {frame, crcOk, record} = decode(MARK_EXAMPLE);
  t.true(crcOk);
  t.is(frame.markFlag, 1);
  t.is(frame.dataLength, 31);
  t.deepEqual(record, {kind: 'mark', logId: 8, timer: 1_764_072_000_500_000, logAddress: 4160, markId: 2, markTime: 1_764_072_000_400_000, app: 'pgsql'});
});

test('the codec writes exactly the documented bytes', t => {
  t.deepEqual(encodeRecord({kind: 'write', logId: 7, timer: 1_764_072_000_000_000, ldev: 3, address: 1_048_576, data: Buffer.from('hello, marklog!!')}), WRITE_EXAMPLE);
  t.deepEqual(encodeRecord({kind: 'mark', logId: 8, timer: 1_764_072_000_500_000, logAddress: 4160, markId: 2, markTime: 1_764_072_000_400_000, app: 'pgsql'}), MARK_EXAMPLE);
});

test('a flipped data byte fails the record checksum', t => {
  const damaged = Buffer.from(WRITE_EXAMPLE);
  damaged[0x35] ^= 0x01;
  t.false(decode(damaged).crcOk);
});

test('a log header round-trips and a flipped byte is a checksum mismatch', t => {
  const fields = {
    version: 1 as const, epoch: 0, blockSize: 0, group: 1, place: 0, ldev: 5, capacity: 1 << 20, baseGeneration: 3, start: 8192, tail: 8256, records: 1,
    oldestLogId: 7, oldestLogTime: 10, oldestLogAddress: 8192, newestLogId: 7, newestLogTime: 10, newestLogAddress: 8192,
    oldestMarkId: 0, oldestMarkTime: 0, oldestMarkAddress: 0, newestMarkId: 0, newestMarkTime: 0, newestMarkAddress: 0, marks: 0,
    siteId: '0123456789abcdef', wrap: 0, sequence: 4,
  };
  const header = encodeLogHeader(fields);
  t.deepEqual(decodeLogHeader(header), {fields});
  header[100] ^= 0xff;
  t.deepEqual(decodeLogHeader(header), {reason: 'header checksum mismatch'});
});

test('a header torn by a crash falls back to the other slot, one update older', t => {
  const base = {
    version: 1 as const, epoch: 0, blockSize: 0,
    group: 1, place: 0, ldev: 5, capacity: 1 << 20, baseGeneration: 3, start: 8192, tail: 8256, records: 1,
    oldestLogId: 7, oldestLogTime: 10, oldestLogAddress: 8192, newestLogId: 7, newestLogTime: 10, newestLogAddress: 8192,
    oldestMarkId: 0, oldestMarkTime: 0, oldestMarkAddress: 0, newestMarkId: 0, newestMarkTime: 0, newestMarkAddress: 0, marks: 0,
    siteId: '0123456789abcdef', wrap: 0,
  };
  const older = {...base, sequence: 6};
  const newer = {...base, sequence: 7, tail: 8320, records: 2, newestLogId: 8, newestLogAddress: 8256};
  const front = Buffer.alloc(LOG_DATA_START);
  encodeLogHeader(older).copy(front, logHeaderSlotOffset(older.sequence));
  encodeLogHeader(newer).copy(front, logHeaderSlotOffset(newer.sequence));
  t.deepEqual(pickLogHeader(front), {fields: newer});
  front[logHeaderSlotOffset(newer.sequence) + 60] ^= 0xff; // torn mid-update
  t.deepEqual(pickLogHeader(front), {fields: older});
  front[logHeaderSlotOffset(older.sequence) + 60] ^= 0xff;
  t.deepEqual(pickLogHeader(front), {reason: 'header checksum mismatch'});
});

test('a header copied into the wrong slot is refused', t => {
  const fields = {
    version: 1 as const, epoch: 0, blockSize: 0,
    group: 1, place: 0, ldev: 5, capacity: 1 << 20, baseGeneration: 3, start: 8192, tail: 8192, records: 0,
    oldestLogId: 0, oldestLogTime: 0, oldestLogAddress: 0, newestLogId: 0, newestLogTime: 0, newestLogAddress: 0,
    oldestMarkId: 0, oldestMarkTime: 0, oldestMarkAddress: 0, newestMarkId: 0, newestMarkTime: 0, newestMarkAddress: 0, marks: 0,
    siteId: 'ab', wrap: 0, sequence: 3,
  };
  t.deepEqual(decodeLogHeader(encodeLogHeader(fields), 0), {reason: 'header in the wrong slot'});
  t.deepEqual(decodeLogHeader(encodeLogHeader(fields), 1), {fields});
});
