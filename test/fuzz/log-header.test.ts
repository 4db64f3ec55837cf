// Fuzzing decodeLogHeader and pickLogHeader (docs/FORMAT.md §4.1): random bytes and
// mutated valid headers — bit flips, substitutions, truncation below 4096 bytes,
// extension, every u32/u64 field at 0, max u32, max u64, 2^53 ± 1 and just past
// start/tail/wrap/capacity, the sequence in the wrong slot, with and without a
// repaired CRC — compared with an independent reading of §4.1.
import {decodeLogHeader, encodeLogHeader, pickLogHeader, type LogHeaderFields} from '../../src/format/log-format.js';
import {Rng, SAFE_MAX, caseCount, crc32cOf, describe, fuzzSuite, largestAllocation, mutate, preview, type Field} from '../helpers/fuzz.js';
import {HDR, HDR_END, HDR_U32, HDR_U64, LOG_DATA_START, LOG_HEADER, specCurrentHeader, specLogHeader} from '../helpers/log-spec.js';

const REASONS = [
  /^volume shorter than a log header$/, /^not a log volume \(bad magic\)$/, /^header checksum mismatch$/,
  /^unknown log format version \d+$/, /^bad header size$/, /^[a-zA-Z]+ out of range$/, /^start\/tail outside the volume$/,
  /^header in the wrong slot$/, /^bad block size$/,
];

function randomHeader(rng: Rng): LogHeaderFields {
  const capacity = rng.chance(0.1) ? Number.MAX_SAFE_INTEGER : LOG_DATA_START + rng.safe(2 ** 40);
  const point = () => LOG_DATA_START + rng.int(capacity - LOG_DATA_START + 1);
  let start: number;
  let tail: number;
  let wrap = 0;
  if (rng.chance(0.3) && capacity > LOG_DATA_START + 1) {
    // Wrapped: 8192 ≤ tail ≤ start < wrap ≤ capacity.
    tail = LOG_DATA_START + rng.int(capacity - LOG_DATA_START);
    start = tail + rng.int(capacity - tail);
    wrap = start + 1 + rng.int(capacity - start);
  } else {
    [start, tail] = [point(), point()].sort((x, y) => x - y);
  }
  const hex = '0123456789abcdef';
  let siteId = '';
  for (let i = 0, n = rng.pick([0, 8, 15, 16]); i < n; i++) siteId += hex[rng.int(16)];
  const s = () => rng.safe();
  const version = rng.pick([1, 2] as const);
  return {
    version, epoch: version === 1 ? 0 : s(), blockSize: version === 1 ? 0 : rng.pick([512, 4096, 65536]),
    group: rng.u32(), place: rng.u32(), ldev: rng.u32(), capacity, baseGeneration: s(), start, tail, records: s(),
    oldestLogId: s(), oldestLogTime: s(), oldestLogAddress: s(), newestLogId: s(), newestLogTime: s(), newestLogAddress: s(),
    oldestMarkId: s(), oldestMarkTime: s(), oldestMarkAddress: s(), newestMarkId: s(), newestMarkTime: s(), newestMarkAddress: s(),
    marks: s(), siteId, wrap, sequence: rng.chance(0.05) ? Number.MAX_SAFE_INTEGER - rng.int(2) : s(),
  };
}

function headerFields(h: LogHeaderFields): Field[] {
  const near = (v: number) => [v - 1, v, v + 1].filter(x => x >= 0).map(BigInt);
  const positions = [...near(LOG_HEADER), ...near(LOG_DATA_START), ...near(h.start), ...near(h.tail), ...near(h.wrap), ...near(h.capacity), SAFE_MAX, SAFE_MAX + 1n];
  const fields: Field[] = [
    {name: 'magic', offset: 0, size: 8, edges: [0x004c4f474b52414dn, 0x004c4f474b52414cn]},
    {name: 'siteId[0..8]', offset: HDR.siteId, size: 8, edges: [0x8080808080808080n, 0xffn, 0x00ffn]},
    {name: 'siteId[8..16]', offset: HDR.siteId + 8, size: 8, edges: [0xc3n, 0x80n << 56n]},
    {name: 'crc', offset: HDR.crc, size: 4},
    {name: 'after crc', offset: HDR_END, size: 8},
  ];
  for (const name of HDR_U32) fields.push({name, offset: HDR[name], size: 4, edges: name === 'headerSize' ? [4095n, 4096n, 4097n] : [0n, 1n, 2n]});
  for (const name of HDR_U64) {
    const edges = ['start', 'tail', 'wrap', 'capacity'].includes(name) ? positions : name === 'sequence' ? near(h.sequence) : undefined;
    fields.push({name, offset: HDR[name], size: 8, edges});
  }
  return fields;
}

/** Rewrites the CRC where the header's version puts it (§4.1; §4.8.1 for version 2). */
function repairCrc(bytes: Buffer): void {
  const at = bytes.length >= 12 && bytes.readUInt32LE(8) === 2 ? 220 : HDR.crc;
  if (bytes.length >= at + 4) bytes.writeUInt32LE(crc32cOf(bytes.subarray(0, at)), at);
}

function edgeCases(): {bytes: Buffer; what: string}[] {
  const base: LogHeaderFields = {
    version: 1 as const, epoch: 0, blockSize: 0,
    group: 1, place: 0, ldev: 3, capacity: 65536, baseGeneration: 1, start: 8192, tail: 12288, records: 2,
    oldestLogId: 1, oldestLogTime: 2, oldestLogAddress: 8192, newestLogId: 2, newestLogTime: 3, newestLogAddress: 8256,
    oldestMarkId: 0, oldestMarkTime: 0, oldestMarkAddress: 0, newestMarkId: 0, newestMarkTime: 0, newestMarkAddress: 0, marks: 0,
    siteId: '0123456789abcdef', wrap: 0, sequence: 4,
  };
  const encoded = encodeLogHeader(base);
  const out: {bytes: Buffer; what: string}[] = [];
  for (const name of HDR_U64) {
    for (const value of [SAFE_MAX, SAFE_MAX + 1n, (1n << 64n) - 1n]) {
      const b = Buffer.from(encoded);
      b.writeBigUInt64LE(value, HDR[name]);
      repairCrc(b);
      out.push({bytes: b, what: `${name} = ${value}`});
    }
  }
  for (const [start, tail, wrap, capacity] of [[4096, 12288, 0, 65536], [8191, 12288, 0, 65536], [8192, 65537, 0, 65536], [12288, 8192, 0, 65536],
    [12288, 8192, 12288, 65536], [12288, 4096, 16384, 65536], [12288, 8191, 16384, 65536], [12288, 8192, 65537, 65536], [12288, 8192, 16384, 65536],
    [8192, 8192, 0, 8192], [8192, 8192, 0, 8191], [4096, 4096, 0, 4096]]) {
    const b = Buffer.from(encoded);
    b.writeBigUInt64LE(BigInt(start), HDR.start);
    b.writeBigUInt64LE(BigInt(tail), HDR.tail);
    b.writeBigUInt64LE(BigInt(wrap), HDR.wrap);
    b.writeBigUInt64LE(BigInt(capacity), HDR.capacity);
    repairCrc(b);
    out.push({bytes: b, what: `start ${start} tail ${tail} wrap ${wrap} capacity ${capacity}`});
  }
  for (const id of [Buffer.from('é-site', 'utf8'), Buffer.from([0x80, 0x81, 0xff]), Buffer.from('ab\0cd', 'latin1')]) {
    const b = Buffer.from(encoded);
    b.fill(0, HDR.siteId, HDR.siteId + 16);
    id.copy(b, HDR.siteId);
    repairCrc(b);
    out.push({bytes: b, what: `siteId bytes ${id.toString('hex')}`});
  }
  out.push({bytes: Buffer.alloc(0), what: 'empty'}, {bytes: encoded.subarray(0, 4095), what: 'one byte short'}, {bytes: Buffer.alloc(4096), what: 'zeros'});
  return out;
}

/** The header bytes that mean something: 0..211 without reserved1 (FORMAT.md §4.1 says readers ignore it). */
function meaningful(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes.subarray(0, HDR_END));
  out.fill(0, HDR.reserved1, HDR.reserved1 + 4);
  out.fill(0, HDR.crc, HDR.crc + 4);
  return out;
}

function sameFields(a: LogHeaderFields, b: LogHeaderFields): boolean {
  const keys = Object.keys(b) as (keyof LogHeaderFields)[];
  return Object.keys(a).length === keys.length && keys.every(k => a[k] === b[k]);
}

const PROPERTIES = [
  'every input is answered with {fields} or {reason}, never an exception',
  'reasons are fixed strings',
  'no allocation beyond the input size',
  'encoder output decodes to the same fields and re-encodes to the same bytes',
  'decodeLogHeader rejects exactly the headers §4.1 rejects',
  'an accepted header re-encodes to the bytes it came from (encode(decode(x)) = x)',
  'pickLogHeader takes the valid slot with the higher sequence, as §4.1 says',
];

type Case = {bytes: Buffer; slot: number; what: string};

/** One slot's worth of input: an edge case, random bytes, or a mutated valid header. */
function slotInput(rng: Rng, index: number, edges: Case[], stats: Record<string, number>, ledger: {check: (p: string, i: number, ok: boolean, d: () => string) => void}): Case {
  if (index >= 0 && index < edges.length) return edges[index];
  if (rng.chance(0.1)) {
    const bytes = rng.bytes(rng.chance(0.5) ? LOG_HEADER : rng.range(0, LOG_HEADER + 64));
    if (bytes.length >= 16 && rng.chance(0.7)) {
      Buffer.from('MARKLOG\0').copy(bytes);
      bytes.writeUInt32LE(1, HDR.version);
      bytes.writeUInt32LE(LOG_HEADER, HDR.headerSize);
    }
    if (rng.chance(0.7)) repairCrc(bytes);
    stats.random++;
    return {bytes, slot: rng.int(2), what: 'random bytes'};
  }
  const fields = randomHeader(rng);
  const encoded = encodeLogHeader(fields);
  const slot = fields.sequence % 2;
  const back = decodeLogHeader(encoded, slot);
  ledger.check(PROPERTIES[3], index, 'fields' in back && sameFields(back.fields, fields) && encodeLogHeader(back.fields).equals(encoded),
    () => `${JSON.stringify(fields)} → ${JSON.stringify(back)}`);
  if (rng.chance(0.1)) return {bytes: encoded, slot, what: 'valid header'};
  const source = rng.chance(0.3) ? Buffer.concat([encoded, rng.bytes(rng.range(1, 512))]) : encoded;
  const mutated = mutate(rng, source, {fields: headerFields(fields), maxSteps: 3, focus: [{from: 0, to: HDR_END}]});
  let what = mutated.steps.join('; ');
  if (rng.chance(0.6)) {
    repairCrc(mutated.bytes);
    what += '; CRC repaired';
    stats.repaired++;
  }
  stats.mutated++;
  const readFrom = rng.chance(0.9) ? slot : 1 - slot;
  return {bytes: mutated.bytes, slot: readFrom, what: `${what}${readFrom !== slot ? '; read from the other slot' : ''}`};
}

fuzzSuite('log header decoder', PROPERTIES, ({seed, ledger, note}) => {
  const edges: Case[] = edgeCases().map(e => ({...e, slot: 0}));
  const cases = caseCount(3000);
  const stats: Record<string, number> = {edge: edges.length, random: 0, mutated: 0, repaired: 0, accepted: 0, pickCases: 0, pickAccepted: 0};
  for (let index = 0; index < cases + edges.length; index++) {
    const rng = new Rng(seed, index);
    const {bytes, slot, what} = slotInput(rng, index, edges, stats, ledger);
    ledger.cases++;
    const context = () => `${what}; slot ${slot}; input ${preview(bytes, 212)}`;
    const run = largestAllocation(() => decodeLogHeader(bytes, slot));
    if (run.error !== undefined) {
      ledger.fail(PROPERTIES[0], index, `${describe(run.error)}; ${context()}`);
      continue;
    }
    const answer = run.value!;
    ledger.check(PROPERTIES[2], index, run.largest <= bytes.length, () => `allocated ${run.largest}; ${context()}`);
    const shapeOk = typeof answer === 'object' && answer !== null && (('reason' in answer && typeof answer.reason === 'string')
      || ('fields' in answer && Object.values(answer.fields).every(v => typeof v === 'string' || Number.isSafeInteger(v))));
    ledger.check(PROPERTIES[0], index, shapeOk, () => `answer ${JSON.stringify(answer)}; ${context()}`);
    if ('reason' in answer) ledger.check(PROPERTIES[1], index, REASONS.some(r => r.test(answer.reason)), () => `reason "${answer.reason}"; ${context()}`);
    const spec = specLogHeader(bytes, slot);
    ledger.check(PROPERTIES[4], index, spec.ok === 'fields' in answer,
      () => `FORMAT.md says ${spec.ok ? 'valid' : `invalid (${spec.why})`}, decoder said ${JSON.stringify(answer).slice(0, 300)}; ${context()}`,
      spec.ok ? 'valid header rejected' : `accepted: ${spec.why}`);
    if ('fields' in answer) {
      stats.accepted++;
      let again: Buffer | undefined;
      let error: unknown;
      try {
        again = encodeLogHeader(answer.fields);
      } catch (e) {
        error = e;
      }
      const siteIdChanged = again !== undefined && !again.subarray(HDR.siteId, HDR.siteId + 16).equals(bytes.subarray(HDR.siteId, HDR.siteId + 16));
      ledger.check(PROPERTIES[5], index, again !== undefined && meaningful(again).equals(meaningful(bytes)),
        () => `decoded siteId ${JSON.stringify(answer.fields.siteId)}, re-encoded ${again ? again.subarray(HDR.siteId, HDR.siteId + 16).toString('hex') : describe(error)} at 176..191, the input had ${bytes.subarray(HDR.siteId, HDR.siteId + 16).toString('hex')}; ${context()}`,
        siteIdChanged ? 'siteId bytes changed' : 'other');
    }
  }

  // The front of a volume: two slots, each valid, damaged, stale or garbage.
  const pickCases = caseCount(1500);
  for (let i = 0; i < pickCases; i++) {
    const index = cases + edges.length + i;
    const rng = new Rng(seed, index);
    const slots: Buffer[] = [];
    const whats: string[] = [];
    let base = randomHeader(rng);
    for (const slot of [0, 1]) {
      let bytes: Buffer;
      const roll = rng.int(4);
      if (roll === 0) {
        // The pair a writer leaves: consecutive sequences, each in its own slot.
        const sequence = Math.max(slot, base.sequence - ((base.sequence - slot) % 2 + 2) % 2);
        bytes = encodeLogHeader({...base, sequence});
        whats.push(`slot ${slot}: valid, sequence ${sequence}`);
      } else {
        const c = slotInput(rng, -1, [], stats, ledger);
        bytes = c.bytes;
        whats.push(`slot ${slot}: ${c.what}`);
      }
      const slotBytes = Buffer.alloc(LOG_HEADER);
      bytes.copy(slotBytes, 0, 0, Math.min(bytes.length, LOG_HEADER));
      slots.push(slotBytes);
      base = randomHeader(rng);
    }
    const front = Buffer.concat(slots);
    const input = rng.chance(0.1) ? front.subarray(0, rng.int(front.length)) : front;
    const context = () => `${whats.join('; ')}; ${input.length} bytes`;
    stats.pickCases++;
    ledger.cases++;
    const run = largestAllocation(() => pickLogHeader(input));
    if (run.error !== undefined) {
      ledger.fail(PROPERTIES[0], index, `pickLogHeader: ${describe(run.error)}; ${context()}`);
      continue;
    }
    ledger.check(PROPERTIES[2], index, run.largest <= input.length, () => `pickLogHeader allocated ${run.largest}; ${context()}`);
    const answer = run.value!;
    const spec = input.length >= LOG_DATA_START ? specCurrentHeader(input)
      : input.length >= LOG_HEADER ? (() => {
        const h = specLogHeader(input.subarray(0, LOG_HEADER), 0);
        return h.ok ? {...h, slot: 0} : h;
      })() : {ok: false as const, why: 'short'};
    if ('fields' in answer) stats.pickAccepted++;
    ledger.check(PROPERTIES[6], index, spec.ok ? 'fields' in answer && answer.fields.sequence === spec.sequence && answer.fields.tail === spec.tail : 'reason' in answer,
      () => `FORMAT.md picks ${spec.ok ? `the slot with sequence ${spec.sequence}` : `nothing (${spec.why})`}, pickLogHeader gave ${JSON.stringify(answer).slice(0, 200)}; ${context()}`);
  }
  note(`inputs: ${stats.edge} edge, ${stats.random} random, ${stats.mutated} mutated slots (${stats.repaired} with a repaired CRC); ${stats.accepted} accepted by decodeLogHeader; ${stats.pickCases} two-slot fronts, ${stats.pickAccepted} with a current header`);
  if (stats.accepted < 100 || stats.pickAccepted < 100) ledger.fail(PROPERTIES[0], -1, `too few inputs got past the checks: ${JSON.stringify(stats)}`);
});
