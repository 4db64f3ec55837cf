// docs/FORMAT.md §4.8.5 against the codec: the worked records of log format 2 decode
// field by field, their header and block CRCs check with a CRC-32C of the test's
// own, the codec writes exactly those bytes, and damage is caught where §4.8.4 says.
import fs from 'node:fs';
import {fileURLToPath} from 'node:url';
import test from 'ava';
import {
  badBlock, decodeHeaderV2, decodeMetaV2, encodeRecordV2, metaLengthOfWrite, RECORD_HEADER_SIZE_V2, RecordHeaderV2, TARGET_SIZE,
} from '../../src/format/log-record-v2.js';
import {crc32cOf} from '../helpers/fuzz.js';

const FORMAT = fs.readFileSync(fileURLToPath(new URL('../../../docs/FORMAT.md', import.meta.url)), 'utf8');
const EPOCH = 1_764_071_000_000_000;
const BLOCK = 4096;

/** The three hex dumps of §4.8.5, in order. */
function examples(): Buffer[] {
  const section = FORMAT.slice(FORMAT.indexOf('#### 4.8.5 Worked examples'));
  return [...section.matchAll(/```\n([\s\S]*?)```/g)].slice(0, 3).map(([, block]) => Buffer.from(block.trim().split('\n')
    .map(line => line.slice(6).replaceAll(' ', '')).join(''), 'hex'));
}

function decode(bytes: Buffer) {
  const header = decodeHeaderV2(bytes.subarray(0, RECORD_HEADER_SIZE_V2), 1 << 27);
  if ('reason' in header) throw new Error(header.reason);
  const {frame} = header;
  const meta = frame.type === 0x57 ? metaLengthOfWrite(frame, bytes.subarray(RECORD_HEADER_SIZE_V2), BLOCK)! : frame.dataLength;
  const metaBytes = bytes.subarray(RECORD_HEADER_SIZE_V2, RECORD_HEADER_SIZE_V2 + meta);
  const decoded = decodeMetaV2(frame, metaBytes, BLOCK);
  if ('reason' in decoded) throw new Error(decoded.reason);
  // The header CRC, computed here from the page's rule alone: bytes 0..43, then the meta area.
  const headerCrcOk = crc32cOf(bytes.subarray(0, RecordHeaderV2.headerCrc), metaBytes) === frame.headerCrc;
  return {frame, decoded, headerCrcOk, meta};
}

const WRITE = {kind: 'write' as const, logId: 7, timer: 1_764_072_000_000_000, ldev: 3, address: 1_048_576, data: Buffer.from('hello, marklog!!')};
const ZERO = {kind: 'zero' as const, logId: 9, timer: 1_764_072_001_000_000, ldev: 3, address: 2_097_152, length: 1_048_576};
const MARK = {kind: 'mark' as const, logId: 8, timer: 1_764_072_000_500_000, logAddress: 8288, markId: 2, markTime: 1_764_072_000_400_000, app: 'pgsql'};

test('FORMAT.md §4.8.5: the worked write record decodes field by field; its header CRC and its block CRC check', t => {
  const [bytes] = examples();
  const {frame, decoded, headerCrcOk, meta} = decode(bytes);
  t.true(headerCrcOk);
  t.like(frame, {type: 0x57, logId: 7, timer: WRITE.timer, dataLength: 44, epoch: EPOCH});
  t.is(meta, TARGET_SIZE + 4);
  t.like(decoded.record, {kind: 'write', logId: 7, ldev: 3, address: 1_048_576});
  const data = bytes.subarray(RECORD_HEADER_SIZE_V2 + meta, RECORD_HEADER_SIZE_V2 + meta + 16);
  t.is(data.toString(), 'hello, marklog!!');
  t.is(crc32cOf(data), 0x044ed822);
  t.is(badBlock(data, decoded.layout!), -1);
  t.is(bytes.length, 96);
});

test('FORMAT.md §4.8.5: the worked zero and mark records decode field by field, and their header CRCs check', t => {
  const [, zero, mark] = examples();
  const z = decode(zero);
  t.true(z.headerCrcOk);
  t.deepEqual(z.decoded.record, ZERO);
  t.is(zero.length, 72);
  const m = decode(mark);
  t.true(m.headerCrcOk);
  t.deepEqual(m.decoded.record, MARK);
  t.is(mark.length, 80);
});

test('the version 2 codec writes exactly the documented bytes', t => {
  const [write, zero, mark] = examples();
  t.deepEqual(encodeRecordV2(WRITE, EPOCH, BLOCK), write);
  t.deepEqual(encodeRecordV2(ZERO, EPOCH, BLOCK), zero);
  t.deepEqual(encodeRecordV2(MARK, EPOCH, BLOCK), mark);
});

test('a flipped data byte fails only its block CRC, never the header CRC; a flipped target byte fails the header CRC', t => {
  const data = Buffer.alloc(3 * BLOCK + 100, 7);
  const bytes = encodeRecordV2({...WRITE, data}, EPOCH, BLOCK);
  const dataAt = RECORD_HEADER_SIZE_V2 + TARGET_SIZE + 4 * 4;
  const flipped = Buffer.from(bytes);
  flipped[dataAt + 2 * BLOCK + 5] ^= 1;
  const {headerCrcOk, decoded} = decode(flipped);
  t.true(headerCrcOk, 'the header and its block CRCs are intact');
  t.is(badBlock(flipped.subarray(dataAt, dataAt + data.length), decoded.layout!), 2, 'block 2 is the damaged one');
  t.is(badBlock(flipped.subarray(dataAt, dataAt + BLOCK), decoded.layout!, 0), -1, 'block 0 alone checks');
  const target = Buffer.from(bytes);
  target[RECORD_HEADER_SIZE_V2 + 8] ^= 1;
  t.false(decode(target).headerCrcOk);
});
