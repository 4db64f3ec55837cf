// Fuzzing the record codec (docs/FORMAT.md §4.2–§4.4): decodeRecordHeader and
// decodeRecordData get random bytes and mutated valid records (bit flips, byte
// substitutions, truncation, extension, length fields at 0 / max u32 / max u64 /
// just past their limits, with and without a repaired CRC), and are compared with
// an independent reading of the page (test/helpers/log-spec.ts).
import {
  decodeRecordData, decodeRecordHeader, encodeRecord, recordCrc, MAX_DATA_LENGTH, RECORD_HEADER_SIZE,
  type LogRecord, type RecordFrame,
} from '../../src/format/log-format.js';
import {
  Rng, SAFE_MAX, U32_MAX, U64_MAX, caseCount, crc32cOf, describe, fuzzSuite, largestAllocation, mutate, preview,
  type Field,
} from '../helpers/fuzz.js';
import {MARK_MIN, REC, WRITE_MIN, align8, specCrcOk, specData, specFrame} from '../helpers/log-spec.js';

const REASONS = new Set(['truncated record', 'bad record magic', 'bad record type', 'bad record length', 'bad record header']);

function randomApp(rng: Rng): string {
  const alphabet = ['a', 'Z', '0', '-', ' ', 'é', 'ß', '€', 'ロ', '🦀', '\u{10ffff}'];
  let app = '';
  const target = rng.chance(0.1) ? 255 : rng.range(1, 40);
  while (Buffer.byteLength(app, 'utf8') < target) {
    const next = app + rng.pick(alphabet);
    if (Buffer.byteLength(next, 'utf8') > 255) break;
    app = next;
  }
  return app || 'x';
}

function randomRecord(rng: Rng): LogRecord {
  const logId = rng.chance(0.1) ? Number.MAX_SAFE_INTEGER : rng.safe();
  const timer = rng.chance(0.1) ? Number.MAX_SAFE_INTEGER : rng.safe();
  if (rng.chance(0.5)) {
    return {kind: 'write', logId, timer, ldev: rng.u32(), address: rng.chance(0.1) ? Number.MAX_SAFE_INTEGER : rng.safe(), data: rng.bytes(rng.chance(0.1) ? 0 : rng.range(1, 300))};
  }
  return {kind: 'mark', logId, timer, logAddress: rng.safe(), markId: rng.safe(), markTime: rng.safe(), app: randomApp(rng)};
}

/** The fields of one encoded record, with the values just past each limit. */
function recordFields(record: LogRecord, encoded: Buffer): Field[] {
  const dataLength = encoded.readUInt32LE(REC.dataLength);
  const d = REC.size;
  const fields: Field[] = [
    {name: 'markFlag', offset: REC.markFlag, size: 1, edges: [0n, 1n, 2n]},
    {name: 'type', offset: REC.type, size: 1, edges: [0x57n, 0x4dn, 0x58n]},
    {name: 'magic', offset: REC.magic, size: 2, edges: [0x4c4dn, 0x4d4cn]},
    {name: 'reserved', offset: REC.reserved, size: 4},
    {name: 'logId', offset: REC.logId, size: 8, edges: [SAFE_MAX, SAFE_MAX + 1n, U64_MAX]},
    {name: 'timer', offset: REC.timer, size: 8},
    {
      name: 'dataLength', offset: REC.dataLength, size: 4,
      edges: [0n, 15n, 16n, 25n, 26n, 27n, BigInt(MAX_DATA_LENGTH - 1), BigInt(MAX_DATA_LENGTH), BigInt(MAX_DATA_LENGTH + 1), U32_MAX,
        ...[-8, -1, 1, 8, 4096].map(delta => BigInt(Math.max(0, dataLength + delta)))],
    },
    {name: 'crc', offset: REC.crc, size: 4},
  ];
  if (record.kind === 'write') {
    fields.push({name: 'write.ldev', offset: d, size: 4}, {name: 'write.reserved', offset: d + 4, size: 4},
      {name: 'write.address', offset: d + 8, size: 8, edges: [SAFE_MAX, SAFE_MAX + 1n, U64_MAX]});
  } else {
    const appLength = dataLength - MARK_MIN;
    fields.push({name: 'mark.logAddress', offset: d, size: 8}, {name: 'mark.markId', offset: d + 8, size: 8},
      {name: 'mark.markTime', offset: d + 16, size: 8},
      {name: 'mark.appLength', offset: d + 24, size: 2, edges: [0n, 254n, 255n, 256n, 0xffffn, ...[-1, 1, 2].map(x => BigInt(Math.max(0, appLength + x)))]},
      {name: 'mark.app[0]', offset: d + MARK_MIN, size: 1, edges: [0x80n, 0xc0n, 0xffn, 0xedn]});
  }
  return fields;
}

/** Recomputes the record CRC over whatever header and data the bytes now declare, when the data is there. */
function repairCrc(bytes: Buffer): void {
  if (bytes.length < REC.size) return;
  const dataLength = bytes.readUInt32LE(REC.dataLength);
  if (REC.size + dataLength > bytes.length) return;
  bytes.writeUInt32LE(crc32cOf(bytes.subarray(0, REC.crc), bytes.subarray(REC.size, REC.size + dataLength)), REC.crc);
}

/** Inputs that must appear in every run whatever the seed: values at and just past each documented limit. */
function edgeCases(): {bytes: Buffer; what: string}[] {
  const out: {bytes: Buffer; what: string}[] = [];
  const withCrc = (bytes: Buffer, what: string) => {
    repairCrc(bytes);
    out.push({bytes, what});
  };
  const write = encodeRecord({kind: 'write', logId: 9, timer: 10, ldev: 1, address: 4096, data: Buffer.from('edge-case-data')});
  const mark = encodeRecord({kind: 'mark', logId: 11, timer: 12, logAddress: 4096, markId: 3, markTime: 13, app: 'app'});
  for (const address of [SAFE_MAX, SAFE_MAX + 1n, SAFE_MAX + 2n, U64_MAX]) {
    const b = Buffer.from(write);
    b.writeBigUInt64LE(address, REC.size + 8);
    withCrc(b, `write address ${address}`);
  }
  for (const [offset, name] of [[0, 'logAddress'], [8, 'markId'], [16, 'markTime']] as const) {
    for (const value of [SAFE_MAX + 1n, U64_MAX]) {
      const b = Buffer.from(mark);
      b.writeBigUInt64LE(value, REC.size + offset);
      withCrc(b, `mark ${name} ${value}`);
    }
  }
  for (const [length, what] of [[256, '256-byte app'], [300, '300-byte app'], [0, 'empty app']] as const) {
    const app = Buffer.alloc(length, 0x61);
    const b = Buffer.alloc(align8(REC.size + MARK_MIN + length));
    mark.copy(b, 0, 0, REC.size + MARK_MIN);
    b.writeUInt32LE(MARK_MIN + length, REC.dataLength);
    b.writeUInt16LE(length, REC.size + 24);
    app.copy(b, REC.size + MARK_MIN);
    withCrc(b, what);
  }
  {
    const b = Buffer.from(mark);
    b.writeUInt16LE(0xffff, REC.size + 24);
    withCrc(b, 'app length 65535 beyond the data');
  }
  for (const bad of [[0xff, 0xfe, 0x80], [0xc0, 0xaf, 0x61], [0xed, 0xa0, 0x80]]) {
    const b = Buffer.from(mark);
    Buffer.from(bad).copy(b, REC.size + MARK_MIN);
    withCrc(b, `app bytes ${Buffer.from(bad).toString('hex')} (not UTF-8)`);
  }
  for (const length of [0, 15, 25, MAX_DATA_LENGTH, MAX_DATA_LENGTH + 1, 0xffff_ffff]) {
    for (const base of [write, mark]) {
      const b = Buffer.from(base);
      b.writeUInt32LE(length, REC.dataLength);
      out.push({bytes: b, what: `dataLength ${length}`});
    }
  }
  for (const logId of [SAFE_MAX + 1n, U64_MAX]) {
    const b = Buffer.from(write);
    b.writeBigUInt64LE(logId, REC.logId);
    withCrc(b, `logId ${logId}`);
  }
  out.push({bytes: Buffer.alloc(0), what: 'empty'}, {bytes: Buffer.alloc(31), what: '31 zero bytes'}, {bytes: Buffer.alloc(32, 0xff), what: '32 bytes of 0xff'});
  return out;
}

function isRecord(value: unknown): value is LogRecord {
  return typeof value === 'object' && value !== null && ((value as LogRecord).kind === 'write' || (value as LogRecord).kind === 'mark');
}

function isReason(value: unknown): value is {reason: string} {
  return typeof value === 'object' && value !== null && typeof (value as {reason: unknown}).reason === 'string';
}

/** The bytes of a record with the parts FORMAT.md says readers ignore (reserved fields, padding) and the CRC zeroed. */
function meaningful(bytes: Buffer, dataLength: number, kind: 'write' | 'mark'): Buffer {
  const out = Buffer.alloc(align8(REC.size + dataLength));
  bytes.copy(out, 0, 0, Math.min(bytes.length, REC.size + dataLength));
  out.fill(0, REC.reserved, REC.reserved + 4);
  out.fill(0, REC.crc, REC.crc + 4);
  if (kind === 'write') out.fill(0, REC.size + 4, REC.size + 8);
  return out;
}

const PROPERTIES = [
  'every input is answered with {frame}/{reason} and a record/{reason}, never an exception',
  'reasons are the fixed strings of FORMAT.md §4.5',
  'no allocation beyond the input size',
  'encoder output decodes to the same record and re-encodes to the same bytes',
  'recordCrc is the CRC-32C of FORMAT.md §1',
  'decodeRecordHeader rejects exactly the headers §4.2 rejects',
  'a valid record whose CRC passes is never reported as damaged',
  'decodeRecordData accepts only data areas §4.3/§4.4 and §1 allow',
  'an accepted record re-encodes to the bytes it came from (encode(decode(x)) = x)',
];

fuzzSuite('record decoders', PROPERTIES, ({seed, ledger, note}) => {
  const cases = caseCount(7000);
  const edges = edgeCases();
  const stats = {random: 0, mutated: 0, crcRepaired: 0, framed: 0, dataDecoded: 0, accepted: 0, crcPassing: 0, edge: edges.length};
  for (let index = 0; index < cases + edges.length; index++) {
    const rng = new Rng(seed, index);
    let bytes: Buffer;
    let what: string;
    let original: LogRecord | undefined;
    if (index < edges.length) {
      ({bytes, what} = edges[index]);
    } else if (rng.chance(0.15)) {
      bytes = rng.bytes(rng.range(0, 96));
      if (bytes.length >= 4 && rng.chance(0.6)) {
        const kind = rng.chance(0.5);
        bytes[0] = kind ? 1 : 0;
        bytes[1] = kind ? 0x4d : 0x57;
        bytes.writeUInt16LE(0x4c4d, 2);
      }
      if (bytes.length >= 28 && rng.chance(0.5)) bytes.writeUInt32LE(rng.range(0, Math.max(0, bytes.length - 32)), REC.dataLength);
      if (rng.chance(0.5)) repairCrc(bytes);
      what = 'random bytes';
      stats.random++;
    } else {
      original = randomRecord(rng);
      const encoded = encodeRecord(original);
      // The encoder's own output must round-trip, bit for bit.
      const header = decodeRecordHeader(encoded);
      const back = 'frame' in header ? decodeRecordData(header.frame, encoded.subarray(REC.size, REC.size + header.frame.dataLength)) : header;
      const normalized = original.kind === 'write' ? {...original, data: Buffer.from(original.data)} : original;
      ledger.check(PROPERTIES[3], index, isRecord(back) && JSON.stringify(back) === JSON.stringify(normalized) && encodeRecord(back).equals(encoded),
        () => `${JSON.stringify(normalized).slice(0, 200)} → ${JSON.stringify(back).slice(0, 200)}`);
      ledger.check(PROPERTIES[4], index, recordCrc(encoded, encoded.subarray(REC.size, REC.size + encoded.readUInt32LE(REC.dataLength))) === crc32cOf(encoded.subarray(0, REC.crc), encoded.subarray(REC.size, REC.size + encoded.readUInt32LE(REC.dataLength))),
        () => preview(encoded));
      const mutated = mutate(rng, encoded, {fields: recordFields(original, encoded), maxSteps: 3, maxGrowth: 48});
      bytes = mutated.bytes;
      what = mutated.steps.join('; ');
      if (rng.chance(0.5)) {
        repairCrc(bytes);
        what += '; CRC repaired';
        stats.crcRepaired++;
      }
      stats.mutated++;
    }

    // As the journal reader does: the 32-byte header, then exactly dataLength bytes of data.
    const headerInput = rng.chance(0.5) ? bytes : bytes.subarray(0, Math.min(bytes.length, RECORD_HEADER_SIZE));
    let frame: RecordFrame | undefined;
    let data: Buffer | undefined;
    const run = largestAllocation(() => {
      const header = decodeRecordHeader(headerInput);
      let body: ReturnType<typeof decodeRecordData> | undefined;
      if (typeof header === 'object' && header !== null && 'frame' in header) {
        frame = header.frame;
        if (bytes.length >= REC.size + frame.dataLength) {
          data = bytes.subarray(REC.size, REC.size + frame.dataLength);
          body = decodeRecordData(frame, data);
        }
      }
      return {header, body};
    });
    const context = () => `${what}; input ${preview(bytes)}`;
    ledger.cases++;
    if (run.error !== undefined) {
      ledger.fail(PROPERTIES[0], index, `${describe(run.error)}; ${context()}`);
      continue;
    }
    const {header, body} = run.value!;
    ledger.check(PROPERTIES[2], index, run.largest <= bytes.length, () => `allocated ${run.largest} bytes; ${context()}`);
    const headerShapeOk = isReason(header) || (typeof header === 'object' && 'frame' in header && Number.isSafeInteger(header.frame.logId));
    ledger.check(PROPERTIES[0], index, headerShapeOk && (body === undefined || isRecord(body) || isReason(body)),
      () => `answer ${JSON.stringify(header)} / ${JSON.stringify(body)?.slice(0, 100)}; ${context()}`);
    for (const answer of [header, body]) {
      if (isReason(answer)) ledger.check(PROPERTIES[1], index, REASONS.has(answer.reason), () => `reason "${answer.reason}"; ${context()}`);
    }

    const spec = specFrame(bytes.subarray(0, Math.min(bytes.length, REC.size)));
    ledger.check(PROPERTIES[5], index, spec.ok === (frame !== undefined),
      () => `spec says ${spec.ok ? 'valid' : `invalid (${spec.why})`}, decoder said ${JSON.stringify(header)}; ${context()}`);
    if (!spec.ok || !frame) continue;
    stats.framed++;
    if (!data) continue;
    stats.dataDecoded++;
    const crcOk = specCrcOk(bytes, data);
    ledger.check(PROPERTIES[4], index, (recordCrc(bytes, data) === frame.crc) === crcOk, () => `library CRC disagrees with FORMAT.md §1; ${context()}`);
    const specBody = specData(spec.kind, data);
    const validUtf8 = specBody.ok && (specBody.kind === 'write' || specBody.utf8);
    if (crcOk) stats.crcPassing++;
    if (crcOk && specBody.ok && validUtf8) {
      ledger.check(PROPERTIES[6], index, isRecord(body), () => `reported ${JSON.stringify(body)} for a valid record; ${context()}`);
    }
    if (isRecord(body)) {
      stats.accepted++;
      ledger.check(PROPERTIES[7], index, specBody.ok, () => `accepted although ${specBody.ok ? '' : specBody.why}: decoded ${JSON.stringify({...body, data: undefined})}; ${context()}`,
        specBody.ok ? undefined : specBody.why);
      let again: Buffer | undefined;
      let error: unknown;
      try {
        again = encodeRecord(body);
      } catch (e) {
        error = e;
      }
      const same = again !== undefined && meaningful(again, frame.dataLength, spec.kind).equals(meaningful(bytes, frame.dataLength, spec.kind));
      ledger.check(PROPERTIES[8], index, same,
        () => `decoded ${JSON.stringify({...body, data: undefined})}, re-encoded ${again ? preview(again, 80) : describe(error)}; ${context()}`,
        !specBody.ok ? specBody.why : !validUtf8 ? 'application identifier is not UTF-8' : 'other');
    }
  }

  note(`inputs: ${stats.edge} edge, ${stats.random} random, ${stats.mutated} mutated (${stats.crcRepaired} with a repaired CRC)`);
  note(`coverage: ${stats.framed} valid frames, ${stats.dataDecoded} data areas decoded, ${stats.crcPassing} passing CRC, ${stats.accepted} records accepted`);
  if (stats.accepted < 200 || stats.framed < 1000) ledger.fail(PROPERTIES[0], -1, `the mutations did not reach past the header checks: ${JSON.stringify(stats)}`);
});
