// Fuzzing the wire frame reader (docs/WIRE.md §3.5): streams of random valid frames,
// mutated (bit flips, substitutions, header fields at and past their limits,
// truncation, insertion, deletion, splices of two streams, random bytes), with and
// without repaired CRCs, fed to WireDecoder in random chunks. Every stream must end
// in its frames and then a clean end or one typed error, the one an independent
// reading of the page (test/helpers/wire-spec.ts) predicts, whatever the chunking,
// with no Buffer larger than a body a checked header announced.
import {isDeepStrictEqual} from 'node:util';
import {WireDecoder} from '../../src/format/wire-decoder.js';
import {encodeFrame, MAX_BINARY_BYTES, MAX_JSON_BYTES, type WireFrame} from '../../src/format/wire-frame.js';
import {MarklogError, WireCorruptError} from '../../src/errors.js';
import {Rng, caseCount, describe, fuzzSuite, isTyped, largestAllocation, mutate, preview} from '../helpers/fuzz.js';
import {headerFields, repairCrcs, specRead} from '../helpers/wire-spec.js';

const CODES = new Set(['WIRE_CORRUPT', 'WIRE_VERSION', 'WIRE_TOO_LARGE', 'WIRE_PROTOCOL', 'REMOTE_UNREACHABLE']);
const HEX = '0123456789abcdef';

function hex16(rng: Rng): string {
  return Array.from({length: 16}, () => HEX[rng.int(16)]).join('');
}

function randomText(rng: Rng, max = 24): string {
  const alphabet = ['a', 'Z', '0', '_', ' ', '"', '\\', '\n', '\u0000', 'é', '€', 'ロ', '🦀', '\ud800', '\u{10ffff}'];
  return Array.from({length: rng.int(max + 1)}, () => rng.pick(alphabet)).join('');
}

function randomJson(rng: Rng, depth = 0): unknown {
  const kind = rng.int(depth > 2 ? 4 : 6);
  if (kind === 0) return rng.chance(0.5) ? rng.safe() : rng.pick([0, 1, 1.5, -7, 1e300, Number.MAX_SAFE_INTEGER]);
  if (kind === 1) return randomText(rng);
  if (kind === 2) return rng.pick([true, false, null]);
  if (kind === 3) return rng.safe(1 << 20);
  if (kind === 4) return Array.from({length: rng.int(4)}, () => randomJson(rng, depth + 1));
  return Object.fromEntries(Array.from({length: rng.int(5)}, () => [rng.chance(0.1) ? '__proto__' : randomText(rng, 8), randomJson(rng, depth + 1)]));
}

function randomBinary(rng: Rng): Buffer {
  if (rng.chance(0.4)) return Buffer.alloc(0);
  return rng.bytes(rng.chance(0.03) ? rng.range(4096, 70_000) : rng.range(1, 300));
}

function randomFrame(rng: Rng): WireFrame {
  const id = rng.chance(0.05) ? Number.MAX_SAFE_INTEGER : rng.range(1, 1000);
  const ack = rng.chance(0.05) ? Number.MAX_SAFE_INTEGER : rng.int(1000);
  const method = rng.range(1, rng.chance(0.9) ? 21 : 0xffff);
  switch (rng.int(8)) {
    case 0:
      return {type: 'hello', ack, hello: {protocol: {min: 1, max: rng.range(1, 3)}, session: rng.chance(0.5) ? '0000000000000000' : hex16(rng), client: hex16(rng), site: rng.chance(0.2) ? '' : hex16(rng)}};
    case 1:
      return {type: 'welcome', ack, welcome: {protocol: rng.range(1, 3), session: hex16(rng).replace(/^0/, '1'), site: {id: hex16(rng), name: rng.pick(['osaka', 'a', 'site-2.b_c']), role: rng.pick(['primary', 'remote'] as const)}}};
    case 2:
    case 3: {
      const json = rng.chance(0.15) ? undefined : randomJson(rng);
      return {type: rng.chance(0.5) ? 'request' : 'response', id, ack, method, json, binary: randomBinary(rng)};
    }
    case 4: {
      const connection = rng.chance(0.2);
      const hint = rng.chance(0.5) ? {hint: randomText(rng)} : {};
      const details = rng.chance(0.3) ? {details: {nextFree: rng.safe(), file: randomText(rng), flag: true, none: null}} : {};
      return {type: 'error', id: connection ? 0 : id, ack, method: connection ? 0 : method, error: {code: rng.pick(['LOG_FULL', 'WIRE_VERSION', 'X', 'A_9']), message: randomText(rng, 60), ...hint, ...details}};
    }
    case 5:
      return {type: 'ping', id: rng.safe(), ack};
    case 6:
      return {type: 'pong', id: rng.safe(), ack};
    default:
      return {type: 'bye', ack};
  }
}

function chunksOf(rng: Rng, stream: Buffer): Buffer[] {
  const mode = stream.length > 4096 ? rng.pick(['whole', 'small', 'random']) : rng.pick(['whole', 'bytes', 'small', 'random']);
  if (mode === 'whole') return [stream];
  const out: Buffer[] = [];
  for (let at = 0; at < stream.length;) {
    const n = mode === 'bytes' ? 1 : mode === 'small' ? rng.range(1, 16) : rng.range(1, stream.length);
    out.push(stream.subarray(at, at + n));
    at += n;
  }
  if (rng.chance(0.1)) out.splice(rng.int(out.length + 1), 0, Buffer.alloc(0));
  return out;
}

interface Outcome {
  frames: WireFrame[];
  error?: unknown;
  largest: number;
  ms: number;
}

function read(chunks: Buffer[], from?: 'client' | 'agent'): Outcome {
  const frames: WireFrame[] = [];
  const started = performance.now();
  const run = largestAllocation(() => {
    const decoder = new WireDecoder({from});
    for (const chunk of chunks) decoder.push(chunk, frame => frames.push(frame));
    decoder.end();
  });
  return {frames, error: run.error, largest: run.largest, ms: performance.now() - started};
}

const codeOf = (error: unknown) => error === undefined ? undefined : isTyped(error) ? error.code : 'untyped';

const PROPERTIES = [
  'every stream ends in its frames and a clean end or one typed error, never another exception',
  'the error codes are the wire\'s own and REMOTE_UNREACHABLE',
  'the frames and the error are those an independent reading of WIRE.md gives',
  'the chunking of the stream never changes the outcome',
  'with no CRC repaired, every frame delivered is one that was sent, byte for byte (or, spliced, a sent header and a sent body)',
  'no Buffer larger than a body a checked header announced, nor than the limits',
  'every encoded frame decodes to itself',
  'no stream takes longer than 2 s to read (no hang)',
];

fuzzSuite('wire frames', PROPERTIES, ({seed, ledger, note}) => {
  const mutatedCases = caseCount(10_000);
  const cleanCases = caseCount(1_000);
  const stats = {mutated: 0, clean: 0, framesSent: 0, framesDelivered: 0, repaired: 0, spliced: 0, random: 0, directed: 0, slowest: 0};
  const outcomes = new Map<string, number>();
  for (let index = 0; index < mutatedCases + cleanCases; index++) {
    const rng = new Rng(seed, index);
    const sent = Array.from({length: rng.range(1, 5)}, () => randomFrame(rng));
    const encoded = sent.map(encodeFrame);
    stats.framesSent += sent.length;
    for (const [i, frame] of sent.entries()) {
      const back = read([encoded[i]]);
      ledger.check(PROPERTIES[6], index, back.error === undefined && isDeepStrictEqual(back.frames, [asDecoded(frame)]) && reencode(back.frames[0]) === encoded[i].toString('hex'),
        () => `${JSON.stringify(frame).slice(0, 200)} → ${back.error ? describe(back.error) : JSON.stringify(back.frames[0]).slice(0, 200)}`);
    }
    let stream: Buffer = Buffer.concat(encoded);
    let what = 'clean';
    let repaired = false;
    const originals = new Set(encoded.map(b => b.toString('hex')));
    if (index < mutatedCases) {
      stats.mutated++;
      const starts = encoded.reduce<number[]>((list, b) => [...list, list[list.length - 1] + b.length], [0]).slice(0, -1);
      const kind = rng.int(10);
      if (kind === 0) {
        const others = Array.from({length: rng.range(1, 3)}, () => encodeFrame(randomFrame(rng)));
        for (const b of others) originals.add(b.toString('hex'));
        // The header and the body carry CRCs of their own (a sender streams bulk bytes behind
        // a checked header), so a cut right after one frame's header, joined to a cut right
        // before another's body of the same lengths, is a frame every check passes: whole
        // parts that were sent, just not together.
        const frames = [...encoded, ...others];
        for (const head of frames) {
          for (const body of frames) {
            if (head.subarray(24, 32).equals(body.subarray(24, 32))) originals.add(Buffer.concat([head.subarray(0, 40), body.subarray(40)]).toString('hex'));
          }
        }
        const other = Buffer.concat(others);
        stream = Buffer.concat([stream.subarray(0, rng.int(stream.length + 1)), other.subarray(rng.int(other.length + 1))]);
        what = 'splice';
        stats.spliced++;
      } else if (kind === 1) {
        stream = rng.bytes(rng.range(0, 200));
        if (stream.length >= 5 && rng.chance(0.7)) Buffer.from([0x4d, 0x4c, 0x57, 0x46, 1]).copy(stream);
        what = 'random bytes';
        stats.random++;
      } else {
        const fields = starts.flatMap(headerFields);
        const focus = starts.map(from => ({from, to: from + 40}));
        const mutated = mutate(rng, stream, {fields, focus: rng.chance(0.5) ? focus : undefined, maxSteps: 3});
        stream = mutated.bytes;
        what = mutated.steps.join('; ');
      }
      if (rng.chance(0.5)) {
        const header = rng.chance(0.8);
        const body = !header || rng.chance(0.6);
        repairCrcs(stream, header, body);
        repaired = true;
        what += `; CRCs repaired (${header ? 'header' : ''}${header && body ? ', ' : ''}${body ? 'body' : ''})`;
        stats.repaired++;
      }
    } else {
      stats.clean++;
    }
    const from = rng.chance(0.2) ? rng.pick(['client', 'agent'] as const) : undefined;
    if (from) stats.directed++;
    const whole = read([stream], from);
    const chunked = read(chunksOf(rng, stream), from);
    const context = () => `${what}${from ? `; read as from the ${from}` : ''}; input ${preview(stream)}`;
    ledger.cases++;
    stats.framesDelivered += chunked.frames.length;
    stats.slowest = Math.max(stats.slowest, whole.ms, chunked.ms);
    const code = codeOf(chunked.error);
    const outcome = chunked.error instanceof WireCorruptError ? `${code}: ${chunked.error.reason}` : code ?? 'clean end';
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    ledger.check(PROPERTIES[0], index, chunked.error === undefined || isTyped(chunked.error), () => `${describe(chunked.error)}; ${context()}`);
    ledger.check(PROPERTIES[1], index, code === undefined || CODES.has(code), () => `${describe(chunked.error)}; ${context()}`, code);
    const spec = specRead(stream, from);
    ledger.check(PROPERTIES[2], index, spec.code === code && isDeepStrictEqual(chunked.frames, spec.frames),
      () => `spec: ${spec.frames.length} frames then ${spec.code ?? 'a clean end'}; decoder: ${chunked.frames.length} frames then ${chunked.error ? describe(chunked.error) : 'a clean end'}; ${context()}`,
      `${spec.code ?? 'clean'} vs ${code ?? 'clean'}`);
    ledger.check(PROPERTIES[3], index, codeOf(whole.error) === code && isDeepStrictEqual(whole.frames, chunked.frames)
      && (chunked.error as MarklogError | undefined)?.message === (whole.error as MarklogError | undefined)?.message,
    () => `whole: ${whole.frames.length} frames, ${describe(whole.error)}; chunked: ${chunked.frames.length} frames, ${describe(chunked.error)}; ${context()}`);
    if (!repaired) {
      const strangers = chunked.frames.filter(frame => !originals.has(reencode(frame) ?? ''));
      ledger.check(PROPERTIES[4], index, strangers.length === 0, () => `delivered ${JSON.stringify(strangers[0]).slice(0, 200)}; ${context()}`);
    }
    const bound = Math.max(40, ...spec.announced);
    ledger.check(PROPERTIES[5], index, chunked.largest <= bound && whole.largest <= bound && bound <= MAX_JSON_BYTES + MAX_BINARY_BYTES + 4,
      () => `allocated ${Math.max(chunked.largest, whole.largest)} bytes, bound ${bound}; ${context()}`);
    ledger.check(PROPERTIES[7], index, whole.ms < 2000 && chunked.ms < 2000, () => `took ${Math.round(Math.max(whole.ms, chunked.ms))} ms; ${context()}`);
  }
  note(`streams: ${stats.mutated} mutated (${stats.spliced} splices, ${stats.random} random, ${stats.repaired} with CRCs repaired), ${stats.clean} clean, ${stats.directed} read with a known sender`);
  note(`frames: ${stats.framesSent} sent, ${stats.framesDelivered} delivered; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}; slowest ${Math.round(stats.slowest)} ms`);
  // Every check of §3.5 must have stopped some stream, or the mutations do not reach past the ones before it.
  const wanted = ['bad magic', 'header checksum mismatch', 'flags or reserved bits set', 'id or ack above 2^53 - 1', 'unknown frame type', 'bad field for its type',
    'body checksum mismatch', 'JSON part is not UTF-8 JSON'].map(reason => `WIRE_CORRUPT: ${reason}`).concat(['WIRE_VERSION', 'WIRE_TOO_LARGE', 'WIRE_PROTOCOL', 'REMOTE_UNREACHABLE', 'clean end']);
  const missed = wanted.filter(o => !outcomes.has(o));
  if (mutatedCases >= 10_000 && missed.length > 0) ledger.fail(PROPERTIES[2], -1, `no stream ended in ${missed.join(', ')}: ${JSON.stringify(Object.fromEntries(outcomes))}`);
});

/** A sent frame as the decoder gives it back: JSON through a round trip, the binary part as a Buffer, even when empty. */
function asDecoded(frame: WireFrame): WireFrame {
  const copy = structuredClone(frame);
  if (frame.type !== 'request' && frame.type !== 'response') return copy;
  return {...copy, json: frame.json === undefined ? undefined : JSON.parse(JSON.stringify(frame.json)), binary: Buffer.from(frame.binary ?? [])} as WireFrame;
}

/** A delivered frame's bytes as the encoder writes them; undefined if it refuses, which the properties then report. */
function reencode(frame: WireFrame | undefined): string | undefined {
  try {
    return frame ? encodeFrame(frame).toString('hex') : undefined;
  } catch {
    return undefined;
  }
}
