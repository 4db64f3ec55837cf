import test from 'ava';
import {BITMAP_HEADER_SIZE, decodeBitmapHeader, encodeBitmapHeader} from '../../src/format/bitmap-format.js';
import {crc32c} from '../../src/format/crc32c.js';

// The worked example of docs/FORMAT.md §2, byte for byte: a 1.25 MiB M-VOL in 64 KiB
// chunks (20 chunks), copy pointer at chunk 12, chunks 12..19 still to copy.
const WORKED_EXAMPLE = Buffer.from([
  '4d4c4249544d4150', // magic "MLBITMAP"
  '01000000', // version 1
  '00000100', // chunk size 65536
  '0000140000000000', // capacity 1310720
  '1400000000000000', // chunk count 20
  '0c00000000000000', // copy pointer 12
  '00'.repeat(20), // reserved
  'd301ee86', // CRC-32C of bytes 0..31 then 40..59 = 0x86EE01D3
  '00f00f', // bits: chunks 12..19 set, the 4 trailing bits of the last byte zero
].join(''), 'hex');

function flipByte(source: Buffer, at: number): Buffer {
  const copy = Buffer.from(source);
  copy[at] ^= 0x01;
  return copy;
}

function bitIsSet(file: Buffer, chunk: number): boolean {
  return (file[BITMAP_HEADER_SIZE + (chunk >> 3)] & (1 << (chunk & 7))) !== 0;
}

test('FORMAT.md §2 worked example: every header field decodes', t => {
  t.is(WORKED_EXAMPLE.length, 67);
  const decoded = decodeBitmapHeader(WORKED_EXAMPLE);
  if (!('fields' in decoded)) return t.fail(decoded.reason);
  t.deepEqual(decoded.fields, {chunkSize: 65_536, capacity: 1_310_720, chunkCount: 20, copyPointer: 12});
  t.is(WORKED_EXAMPLE.readUInt32LE(60), 0x86ee01d3);
  t.is(crc32c(WORKED_EXAMPLE.subarray(40, 60), crc32c(WORKED_EXAMPLE.subarray(0, 32))), 0x86ee01d3);
});

test('FORMAT.md §2 worked example: bit n of the map is bit n%8 of byte n/8, least significant first', t => {
  const set = Array.from({length: 20}, (_, chunk) => chunk).filter(chunk => bitIsSet(WORKED_EXAMPLE, chunk));
  t.deepEqual(set, [12, 13, 14, 15, 16, 17, 18, 19]);
  t.is(WORKED_EXAMPLE[66] & 0xf0, 0, 'trailing bits past the last chunk are zero');
});

test('FORMAT.md §2 worked example: the encoder writes exactly these header bytes', t => {
  const header = Buffer.alloc(BITMAP_HEADER_SIZE, 0xaa);
  encodeBitmapHeader(header, {chunkSize: 65_536, capacity: 1_310_720, chunkCount: 20, copyPointer: 12});
  t.deepEqual(header, WORKED_EXAMPLE.subarray(0, BITMAP_HEADER_SIZE));
});

test('one flipped byte anywhere in the header but the copy pointer is reported as a header checksum mismatch', t => {
  for (let at = 8; at < BITMAP_HEADER_SIZE; at++) {
    if (at >= 32 && at < 40) continue;
    t.deepEqual(decodeBitmapHeader(flipByte(WORKED_EXAMPLE, at)), {reason: 'header checksum mismatch'}, `byte ${at}`);
  }
});

test('the copy pointer sits outside the CRC and is checked by range', t => {
  const moved = flipByte(WORKED_EXAMPLE, 32);
  const decoded = decodeBitmapHeader(moved);
  if (!('fields' in decoded)) return t.fail(decoded.reason);
  t.is(decoded.fields.copyPointer, 13);
  t.deepEqual(decodeBitmapHeader(flipByte(WORKED_EXAMPLE, 33)), {reason: 'copy pointer past the end'});
});

test('a flipped byte in the magic is reported as bad magic', t => {
  t.deepEqual(decodeBitmapHeader(flipByte(WORKED_EXAMPLE, 0)), {reason: 'bad magic'});
});

test('the CRC does not cover the bits: a flipped bit byte still decodes', t => {
  t.true('fields' in decodeBitmapHeader(flipByte(WORKED_EXAMPLE, BITMAP_HEADER_SIZE)));
});

test('a file cut short of its bits is reported', t => {
  t.deepEqual(decodeBitmapHeader(WORKED_EXAMPLE.subarray(0, 66)), {reason: 'file shorter than its bits'});
  t.deepEqual(decodeBitmapHeader(WORKED_EXAMPLE.subarray(0, 63)), {reason: 'file shorter than its header'});
});
