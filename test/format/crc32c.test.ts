import test from 'ava';
import {crc32c} from '../../src/format/crc32c.js';

/** CRC-32C one bit at a time, straight from the definition in docs/FORMAT.md §1. */
function crc32cBitwise(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

/** Deterministic bytes that are not all alike. */
function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

test('the check value of "123456789" is 0xE3069283 (RFC 3720)', t => {
  t.is(crc32c(Buffer.from('123456789', 'ascii')), 0xe3069283);
  t.is(crc32cBitwise(Buffer.from('123456789', 'ascii')), 0xe3069283);
});

test('the empty input gives 0', t => {
  t.is(crc32c(new Uint8Array(0)), 0);
});

test('RFC 3720 B.4 vectors: 32 bytes of zeros, of ones, ascending and descending', t => {
  t.is(crc32c(new Uint8Array(32)), 0x8a9136aa);
  t.is(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  t.is(crc32c(Uint8Array.from({length: 32}, (_, i) => i)), 0x46dd794e);
  t.is(crc32c(Uint8Array.from({length: 32}, (_, i) => 31 - i)), 0x113fdb5c);
});

const lengths = [1, 7, 8, 9, 15, 16, 17, 60, 63, 64, 65, 255, 1000, 4096 + 3];
for (const length of lengths) {
  test(`the 8-byte fast path agrees with the bitwise definition for ${length} bytes`, t => {
    const data = bytes(length, length);
    t.is(crc32c(data), crc32cBitwise(data));
  });
}

test('the same bytes at an odd offset inside a larger buffer give the same CRC', t => {
  const data = bytes(100, 7);
  const larger = new Uint8Array(103);
  larger.set(data, 3);
  t.is(crc32c(larger.subarray(3)), crc32c(data));
});

test('a seed continues a CRC: crc32c(b, crc32c(a)) is the CRC of a then b', t => {
  const data = bytes(50, 3);
  t.is(crc32c(data.subarray(20), crc32c(data.subarray(0, 20))), crc32c(data));
});

test('long inputs (three interleaved chains joined by a zero-byte shift) agree with the definition, at every length around the block boundaries', t => {
  // 3 × 8192 bytes is where the addon switches to three chains.
  for (const length of [24_575, 24_576, 24_577, 49_151, 49_152 + 13, 3 * 24_576 + 7, 200_003]) {
    const data = bytes(length, length);
    t.is(crc32c(data), crc32cBitwise(data), `length ${length}`);
  }
});

test('a long input checksummed whole equals the same input continued piece by piece from each seed', t => {
  const data = bytes(1024 * 1024 + 5, 99);
  let running = 0;
  for (let at = 0; at < data.length; at += 1000) running = crc32c(data.subarray(at, at + 1000), running);
  t.is(crc32c(data), running);
  // And a long piece after a short one: the seed enters the first chain only.
  t.is(crc32c(data.subarray(100), crc32c(data.subarray(0, 100))), running);
});
