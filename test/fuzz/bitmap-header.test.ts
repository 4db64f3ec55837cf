// Fuzzing the pair bitmap header (docs/FORMAT.md §2): decodeBitmapHeader on random
// bytes and mutated valid bitmaps (bit flips, substitutions, truncation, extension,
// chunkSize/capacity/chunkCount/copyPointer at 0, max u32, max u64, 2^53 ± 1 and one
// past the geometry, with and without a repaired CRC), and PairBitmap.open on the
// same bytes written to a file.
import fs from 'node:fs';
import path from 'node:path';
import {
  BITMAP_HEADER_SIZE, bitmapFileSize, chunkCountFor, decodeBitmapHeader, encodeBitmapHeader, type BitmapHeaderFields,
} from '../../src/format/bitmap-format.js';
import {PairBitmap} from '../../src/pair/bitmap.js';
import {
  Rng, SAFE_MAX, U32_MAX, U64_MAX, caseCount, describe, fuzzSuite, isTyped, largestAllocation, mutate, preview, type Field,
} from '../helpers/fuzz.js';
import {BMP, specBitmap, specBitmapCrc} from '../helpers/log-spec.js';
import {scratchDir} from '../helpers/fuzz-sites.js';

/** The fixed reasons of FORMAT.md §2.4, in the order of its checks. */
const TABLE_REASONS = ['file shorter than its header', 'bad magic', 'header checksum mismatch', 'unknown version', 'geometry does not add up',
  'copy pointer past the end', 'file shorter than its bits'];

function randomBitmap(rng: Rng): {fields: BitmapHeaderFields; bytes: Buffer} {
  const chunkSize = rng.chance(0.6) ? 2 ** rng.range(9, 26) : rng.chance(0.1) ? 0xffff_ffff : rng.range(1, 0xffff_ffff);
  const maxChunks = rng.chance(0.2) ? 0 : rng.range(1, 20_000);
  const capacity = rng.int(chunkSize * maxChunks + 1);
  const chunkCount = chunkCountFor(capacity, chunkSize);
  const copyPointer = rng.chance(0.3) ? chunkCount : rng.int(chunkCount + 1);
  const bytes = Buffer.alloc(bitmapFileSize(chunkCount) + (rng.chance(0.3) ? rng.range(1, 64) : 0));
  rng.bytes(bytes.length - BITMAP_HEADER_SIZE).copy(bytes, BITMAP_HEADER_SIZE);
  const fields = {chunkSize, capacity, chunkCount, copyPointer};
  encodeBitmapHeader(bytes, fields);
  return {fields, bytes};
}

function bitmapFields(f: BitmapHeaderFields): Field[] {
  const near = (v: number) => [v - 1, v, v + 1].filter(x => x >= 0).map(BigInt);
  return [
    {name: 'magic', offset: BMP.magic, size: 8, edges: [0x50414d5449424c4dn]},
    {name: 'version', offset: BMP.version, size: 4, edges: [0n, 1n, 2n]},
    {name: 'chunkSize', offset: BMP.chunkSize, size: 4, edges: [0n, 1n, U32_MAX, ...near(f.chunkSize)]},
    {name: 'capacity', offset: BMP.capacity, size: 8, edges: [...near(f.capacity), SAFE_MAX, SAFE_MAX + 1n, SAFE_MAX + 2n, U64_MAX]},
    {name: 'chunkCount', offset: BMP.chunkCount, size: 8, edges: [...near(f.chunkCount), SAFE_MAX + 1n, U64_MAX]},
    {name: 'copyPointer', offset: BMP.copyPointer, size: 8, edges: [...near(f.chunkCount), ...near(f.copyPointer), SAFE_MAX + 1n, U64_MAX]},
    {name: 'reserved', offset: BMP.reserved + 8, size: 8},
    {name: 'crc', offset: BMP.crc, size: 4},
  ];
}

function repairCrc(bytes: Buffer): void {
  if (bytes.length >= BMP.size) bytes.writeUInt32LE(specBitmapCrc(bytes), BMP.crc);
}

/** A header whose fields are written as given (bigint), with a correct CRC, and room for `bits` bytes of bitmap. */
function rawBitmap(chunkSize: number, capacity: bigint, chunkCount: bigint, copyPointer: bigint, bitBytes: number): Buffer {
  const b = Buffer.alloc(BMP.size + bitBytes);
  Buffer.from('MLBITMAP').copy(b);
  b.writeUInt32LE(1, BMP.version);
  b.writeUInt32LE(chunkSize, BMP.chunkSize);
  b.writeBigUInt64LE(capacity, BMP.capacity);
  b.writeBigUInt64LE(chunkCount, BMP.chunkCount);
  b.writeBigUInt64LE(copyPointer, BMP.copyPointer);
  repairCrc(b);
  return b;
}

function edgeCases(): {bytes: Buffer; what: string}[] {
  const out: {bytes: Buffer; what: string}[] = [];
  // capacity 2^53 + 1 is not a double: Number() rounds it to 2^53, and the geometry
  // computed from the rounded value matches a chunkCount a file of ~256 KiB can hold.
  for (const capacity of [SAFE_MAX + 2n, SAFE_MAX + 3n, SAFE_MAX + 5n]) {
    const chunkSize = 0xffff_ffff;
    const chunkCount = BigInt(Math.ceil(Number(capacity) / chunkSize));
    out.push({bytes: rawBitmap(chunkSize, capacity, chunkCount, 0n, Number((chunkCount + 7n) / 8n)), what: `capacity ${capacity}, chunkSize ${chunkSize}, chunkCount ${chunkCount}`});
  }
  out.push({bytes: rawBitmap(4096, U64_MAX, U64_MAX, 0n, 8), what: 'capacity and chunkCount max u64'});
  out.push({bytes: rawBitmap(1, U64_MAX, U64_MAX, U64_MAX, 8), what: 'everything max u64'});
  out.push({bytes: rawBitmap(0, 0n, 0n, 0n, 0), what: 'chunkSize 0'});
  out.push({bytes: rawBitmap(4096, 4096n * 8n, 8n, 9n, 1), what: 'copy pointer one past the end'});
  out.push({bytes: rawBitmap(4096, 4096n * 9n, 9n, 0n, 1), what: 'one bit byte short'});
  out.push({bytes: rawBitmap(4096, 0n, 0n, 0n, 0), what: 'empty volume'});
  out.push({bytes: Buffer.alloc(63), what: '63 bytes'}, {bytes: Buffer.alloc(0), what: 'empty file'});
  return out;
}

const PROPERTIES = [
  'every input is answered with {fields} or {reason}, never an exception',
  'reasons are the fixed strings of FORMAT.md §2.4',
  'no allocation beyond the input size',
  'encoder output decodes to the same fields',
  'decodeBitmapHeader rejects exactly what §2.4 and §1 reject',
  'the reason names the first failing check of §2.4',
  'an accepted header re-encodes to the bytes it came from (encode(decode(x)) = x)',
  'PairBitmap.open answers with a bitmap or a typed error (CORRUPT_BITMAP)',
];

fuzzSuite('bitmap header decoder', PROPERTIES, ({seed, ledger, note, t}) => {
  const edges = edgeCases();
  const cases = caseCount(2500);
  const dir = scratchDir(t);
  const stats = {edge: edges.length, random: 0, mutated: 0, repaired: 0, accepted: 0, opened: 0, files: 0};
  for (let index = 0; index < cases + edges.length; index++) {
    const rng = new Rng(seed, index);
    let bytes: Buffer;
    let what: string;
    if (index < edges.length) {
      ({bytes, what} = edges[index]);
    } else if (rng.chance(0.1)) {
      bytes = rng.bytes(rng.range(0, 200));
      if (bytes.length >= 16 && rng.chance(0.7)) {
        Buffer.from('MLBITMAP').copy(bytes);
        bytes.writeUInt32LE(1, BMP.version);
      }
      if (rng.chance(0.7)) repairCrc(bytes);
      what = 'random bytes';
      stats.random++;
    } else {
      const valid = randomBitmap(rng);
      const back = decodeBitmapHeader(valid.bytes);
      ledger.check(PROPERTIES[3], index, 'fields' in back && JSON.stringify(back.fields) === JSON.stringify(valid.fields),
        () => `${JSON.stringify(valid.fields)} → ${JSON.stringify(back)}`);
      const mutated = mutate(rng, valid.bytes, {fields: bitmapFields(valid.fields), maxSteps: 3, focus: [{from: 0, to: BMP.size}], maxGrowth: 16});
      bytes = mutated.bytes;
      what = mutated.steps.join('; ');
      if (rng.chance(0.6)) {
        repairCrc(bytes);
        what += '; CRC repaired';
        stats.repaired++;
      }
      stats.mutated++;
    }
    ledger.cases++;
    const context = () => `${what}; input ${preview(bytes, 64)}`;
    const run = largestAllocation(() => decodeBitmapHeader(bytes));
    if (run.error !== undefined) {
      ledger.fail(PROPERTIES[0], index, `${describe(run.error)}; ${context()}`);
      continue;
    }
    const answer = run.value!;
    ledger.check(PROPERTIES[2], index, run.largest <= bytes.length, () => `allocated ${run.largest}; ${context()}`);
    const shapeOk = typeof answer === 'object' && answer !== null
      && (('reason' in answer && typeof answer.reason === 'string') || ('fields' in answer && Object.values(answer.fields).every(v => Number.isInteger(v) && v >= 0)));
    ledger.check(PROPERTIES[0], index, shapeOk, () => `answer ${JSON.stringify(answer)}; ${context()}`);
    if ('reason' in answer) {
      ledger.check(PROPERTIES[1], index, TABLE_REASONS.some(r => answer.reason === r || (r === 'unknown version' && /^unknown version \d+$/.test(answer.reason))),
        () => `reason "${answer.reason}"; ${context()}`);
    }
    const spec = specBitmap(bytes);
    ledger.check(PROPERTIES[4], index, spec.ok === 'fields' in answer,
      () => `FORMAT.md says ${spec.ok ? 'valid' : `invalid (${spec.why})`}, decoder said ${JSON.stringify(answer)}; ${context()}`,
      spec.ok ? 'valid bitmap rejected' : `accepted: ${spec.why}`);
    if (!spec.ok && 'reason' in answer && spec.why !== 'u64 above 2^53-1') {
      ledger.check(PROPERTIES[5], index, answer.reason.startsWith(spec.why), () => `expected "${spec.why}", got "${answer.reason}"; ${context()}`);
    }
    if ('fields' in answer) {
      stats.accepted++;
      const again = Buffer.alloc(BITMAP_HEADER_SIZE);
      let error: unknown;
      try {
        encodeBitmapHeader(again, answer.fields);
      } catch (e) {
        error = e;
      }
      const mask = (b: Buffer) => {
        const m = Buffer.from(b.subarray(0, BMP.size));
        m.fill(0, BMP.reserved, BMP.size);
        return m;
      };
      ledger.check(PROPERTIES[6], index, error === undefined && mask(again).equals(mask(bytes)),
        () => `decoded ${JSON.stringify(answer.fields)}, the input says capacity ${bytes.readBigUInt64LE(BMP.capacity)}, chunkCount ${bytes.readBigUInt64LE(BMP.chunkCount)}, copyPointer ${bytes.readBigUInt64LE(BMP.copyPointer)}; ${error ? describe(error) : ''}; ${context()}`,
        bytes.readBigUInt64LE(BMP.capacity) > SAFE_MAX ? 'capacity above 2^53-1' : 'other');
    }

    // The same bytes as a pair bitmap file (every tenth case: this one touches the disk).
    if (index % 10 === 0 || index < edges.length) {
      stats.files++;
      const file = path.join(dir, `case-${index}.bitmap`);
      fs.writeFileSync(file, bytes);
      try {
        const bitmap = PairBitmap.open(file);
        try {
          stats.opened++;
          bitmap.dirtyCount();
          if (bitmap.chunkCount > 0) bitmap.isSet(bitmap.chunkCount - 1);
          void bitmap.copyPointer;
        } finally {
          bitmap.close();
        }
      } catch (error) {
        ledger.check(PROPERTIES[7], index, isTyped(error) && error.code === 'CORRUPT_BITMAP', () => `${describe(error)}; ${context()}`);
      } finally {
        fs.rmSync(file, {force: true});
      }
    }
  }
  note(`inputs: ${stats.edge} edge, ${stats.random} random, ${stats.mutated} mutated (${stats.repaired} with a repaired CRC); ${stats.accepted} accepted; ${stats.files} written as files, ${stats.opened} opened`);
  if (stats.accepted < 100) ledger.fail(PROPERTIES[0], -1, `too few inputs got past the checks: ${JSON.stringify(stats)}`);
});
