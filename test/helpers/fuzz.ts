// The fuzzing vocabulary: a seeded PRNG (so every run can be replayed with
// MARKLOG_FUZZ_SEED), byte mutators that know the fields of a format, an
// independent CRC-32C written from docs/FORMAT.md §1, a guard that records the
// largest Buffer a decoder asks for, and a ledger that collects every property
// violation so one test reports all of them at once, each with its seed and case.
import test, {type ExecutionContext} from 'ava';
import {MarklogError} from '../../src/errors.js';

// ---------------------------------------------------------------------------
// Seeded PRNG: sfc32, seeded through splitmix32 so nearby seeds diverge.

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    const mix = splitmix32((seed ^ Math.imul(stream + 1, 0x27d4eb2d)) >>> 0);
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    if (n <= 0) return 0;
    if (n <= 0x1_0000_0000) return Math.floor((this.u32() / 0x1_0000_0000) * n);
    return Math.min(n - 1, Math.floor((this.u32() * 0x1_0000_0000 + this.u32()) / 2 ** 64 * n));
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }

  /** A safe integer, biased towards small values. */
  safe(max = Number.MAX_SAFE_INTEGER): number {
    const bits = this.range(0, 53);
    return Math.min(max, Math.floor((this.u32() * 0x20_0000 + (this.u32() >>> 11)) / 2 ** (53 - bits)));
  }
}

/**
 * The seed of a fuzz run: MARKLOG_FUZZ_SEED when set (to replay a failure),
 * otherwise fresh. Every case gets its own stream, so `seed` and `case` in a
 * failure message pinpoint the input.
 */
export function chooseSeed(): number {
  const text = process.env.MARKLOG_FUZZ_SEED?.trim();
  return text ? Number(text) >>> 0 : (Math.random() * 0x1_0000_0000) >>> 0;
}

/** How many cases to run: the default, scaled by MARKLOG_FUZZ_SCALE (e.g. 10 for a soak). */
export function caseCount(base: number): number {
  const scale = Number(process.env.MARKLOG_FUZZ_SCALE ?? '1');
  return Math.max(1, Math.round(base * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

// ---------------------------------------------------------------------------
// CRC-32C, bit-reflected polynomial 0x82F63B78, init and final XOR ~0 (FORMAT.md §1),
// byte-at-a-time with a table. Independent of src/format/crc32c.ts on purpose.

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32cOf(...parts: Uint8Array[]): number {
  let crc = 0xffffffff;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) crc = CRC_TABLE[(crc ^ part[i]) & 0xff] ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------------------
// Mutations.

export interface Field {
  name: string;
  offset: number;
  size: 1 | 2 | 4 | 8;
  /** Values just past (and at) this field's limits, beyond the generic extremes. */
  edges?: bigint[];
}

export const U64_MAX = (1n << 64n) - 1n;
export const U32_MAX = 0xffff_ffffn;
export const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

function extremes(size: number): bigint[] {
  const max = (1n << BigInt(size * 8)) - 1n;
  const out = [0n, 1n, max, max - 1n, max >> 1n, (max >> 1n) + 1n];
  if (size === 8) out.push(SAFE_MAX, SAFE_MAX + 1n, SAFE_MAX + 2n, U32_MAX, U32_MAX + 1n);
  return out;
}

export function writeField(buffer: Buffer, field: Field, value: bigint): void {
  if (field.offset + field.size > buffer.length) return;
  const max = (1n << BigInt(field.size * 8)) - 1n;
  const v = value & max;
  if (field.size === 1) buffer[field.offset] = Number(v);
  else if (field.size === 2) buffer.writeUInt16LE(Number(v), field.offset);
  else if (field.size === 4) buffer.writeUInt32LE(Number(v), field.offset);
  else buffer.writeBigUInt64LE(v, field.offset);
}

export interface Mutated {
  bytes: Buffer;
  /** What was done, in order: for the failure message. */
  steps: string[];
}

export interface MutateOptions {
  fields?: Field[];
  /** At most this many steps (at least one). */
  maxSteps?: number;
  /** Where positional mutations land, when not anywhere: [from, to) ranges to prefer. */
  focus?: {from: number; to: number}[];
  /** Allow truncation, extension, insertion and deletion (default true). */
  resize?: boolean;
  /** Upper bound on growth, in bytes (default 64). */
  maxGrowth?: number;
}

/**
 * Applies 1..maxSteps mutations: bit flips, byte substitutions, range fills, field
 * extremes (0, max u32/u64, 2^53 ± 1, the field's own limits ± 1), truncation,
 * extension, insertion and deletion.
 */
export function mutate(rng: Rng, input: Buffer, options: MutateOptions = {}): Mutated {
  let bytes = Buffer.from(input);
  const steps: string[] = [];
  const resize = options.resize ?? true;
  const fields = options.fields ?? [];
  const position = (): number => {
    if (bytes.length === 0) return 0;
    if (options.focus?.length && rng.chance(0.85)) {
      const r = rng.pick(options.focus);
      const at = r.from + rng.int(Math.max(1, r.to - r.from));
      if (at < bytes.length) return at;
    }
    return rng.int(bytes.length);
  };
  const n = rng.range(1, options.maxSteps ?? 3);
  for (let s = 0; s < n; s++) {
    const kinds = ['flip', 'flip', 'byte', 'byte', 'fill'];
    if (fields.length) kinds.push('field', 'field', 'field', 'field');
    if (resize) kinds.push('truncate', 'extend', 'insert', 'delete');
    const kind = rng.pick(kinds);
    if (bytes.length === 0 && kind !== 'extend' && kind !== 'insert') continue;
    switch (kind) {
      case 'flip': {
        const at = position();
        const bit = rng.int(8);
        bytes[at] ^= 1 << bit;
        steps.push(`flip bit ${bit} of byte ${at}`);
        break;
      }
      case 'byte': {
        const at = position();
        const value = rng.chance(0.5) ? rng.pick([0x00, 0xff, 0x7f, 0x80, 0x01]) : rng.int(256);
        bytes[at] = value;
        steps.push(`byte ${at} = 0x${value.toString(16)}`);
        break;
      }
      case 'fill': {
        const at = position();
        const length = Math.min(bytes.length - at, rng.range(1, 16));
        const value = rng.pick([0x00, 0xff, -1]);
        if (value < 0) rng.bytes(length).copy(bytes, at);
        else bytes.fill(value, at, at + length);
        steps.push(`fill ${at}+${length} with ${value < 0 ? 'random' : `0x${value.toString(16)}`}`);
        break;
      }
      case 'field': {
        const field = rng.pick(fields);
        if (field.offset + field.size > bytes.length) break;
        const candidates = [...extremes(field.size), ...(field.edges ?? [])];
        let value: bigint;
        if (rng.chance(0.8)) value = rng.pick(candidates);
        else if (field.size === 8) value = rng.u64();
        else value = BigInt(rng.u32());
        writeField(bytes, field, value);
        steps.push(`${field.name} = ${value}`);
        break;
      }
      case 'truncate': {
        const length = rng.chance(0.3) ? Math.max(0, bytes.length - rng.range(1, 8)) : rng.int(bytes.length);
        steps.push(`truncate to ${length}`);
        bytes = bytes.subarray(0, length);
        break;
      }
      case 'extend': {
        const length = rng.range(1, options.maxGrowth ?? 64);
        const extra = rng.chance(0.5) ? Buffer.alloc(length) : rng.bytes(length);
        steps.push(`extend by ${length} ${extra.some(b => b !== 0) ? 'random' : 'zero'} bytes`);
        bytes = Buffer.concat([bytes, extra]);
        break;
      }
      case 'insert': {
        const at = position();
        const length = rng.range(1, 8);
        steps.push(`insert ${length} bytes at ${at}`);
        bytes = Buffer.concat([bytes.subarray(0, at), rng.bytes(length), bytes.subarray(at)]);
        break;
      }
      case 'delete': {
        const at = position();
        const length = Math.min(bytes.length - at, rng.range(1, 8));
        steps.push(`delete ${length} bytes at ${at}`);
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + length)]);
        break;
      }
    }
  }
  if (steps.length === 0) {
    const at = position();
    if (bytes.length > 0) {
      bytes[at] ^= 0x01;
      steps.push(`flip bit 0 of byte ${at}`);
    }
  }
  return {bytes, steps};
}

// ---------------------------------------------------------------------------
// Allocation guard.

type AllocFn = (...args: any[]) => Buffer;

/**
 * Runs `work` while recording the largest size passed to Buffer.alloc,
 * Buffer.allocUnsafe and Buffer.allocUnsafeSlow. Decoders that trust a length
 * field before checking it show up here.
 */
export function largestAllocation<T>(work: () => T): {value?: T; error?: unknown; largest: number} {
  const B = Buffer as unknown as Record<'alloc' | 'allocUnsafe' | 'allocUnsafeSlow', AllocFn>;
  const saved = {alloc: B.alloc, allocUnsafe: B.allocUnsafe, allocUnsafeSlow: B.allocUnsafeSlow};
  let largest = 0;
  for (const name of ['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const) {
    const original = saved[name];
    B[name] = function (this: unknown, size: number, ...rest: unknown[]) {
      if (typeof size === 'number' && size > largest) largest = size;
      return original.call(this, size, ...rest);
    };
  }
  try {
    return {value: work(), largest};
  } catch (error) {
    return {error, largest};
  } finally {
    B.alloc = saved.alloc;
    B.allocUnsafe = saved.allocUnsafe;
    B.allocUnsafeSlow = saved.allocUnsafeSlow;
  }
}

// ---------------------------------------------------------------------------
// Typed answers.

/** A typed marklog error with a stable code. */
export function isTyped(error: unknown): error is MarklogError {
  return error instanceof MarklogError && typeof error.code === 'string' && error.code.length > 0;
}

export function describe(error: unknown): string {
  if (error instanceof Error) return `${error.constructor.name}${isTyped(error) ? `(${error.code})` : ''}: ${error.message.split('\n')[0]}`;
  return `non-error thrown: ${String(error)}`;
}

/** A short printable view of an input, for failure messages. */
export function preview(bytes: Buffer, limit = 96): string {
  const head = bytes.subarray(0, limit).toString('hex');
  return `${bytes.length} bytes: ${head}${bytes.length > limit ? '…' : ''}`;
}

// ---------------------------------------------------------------------------
// Ledger of property violations.

export class Ledger {
  private readonly found = new Map<string, Map<string, string[]>>();
  private readonly counts = new Map<string, Map<string, number>>();
  cases = 0;

  constructor(readonly seed: number) {}

  /** Records one violation of `property` in case `index`; `category` groups the examples shown. */
  fail(property: string, index: number, detail: string, category = 'all'): void {
    const counts = this.counts.get(property) ?? new Map<string, number>();
    counts.set(category, (counts.get(category) ?? 0) + 1);
    this.counts.set(property, counts);
    const examples = this.found.get(property) ?? new Map<string, string[]>();
    const list = examples.get(category) ?? [];
    if (list.length < 3) list.push(`case ${index}: ${detail}`);
    examples.set(category, list);
    this.found.set(property, examples);
  }

  check(property: string, index: number, ok: boolean, detail: () => string, category?: string): void {
    if (!ok) this.fail(property, index, detail(), category);
  }

  count(property: string): number {
    let n = 0;
    for (const c of this.counts.get(property)?.values() ?? []) n += c;
    return n;
  }

  report(property: string): string {
    const lines = [`${property}: ${this.count(property)} violation(s) in ${this.cases} cases (seed ${this.seed}; replay with MARKLOG_FUZZ_SEED=${this.seed})`];
    for (const [category, list] of this.found.get(property) ?? []) {
      lines.push(`  [${category}] ${this.counts.get(property)!.get(category)} case(s), e.g.`);
      for (const line of list) lines.push(`    ${line.length > 900 ? `${line.slice(0, 900)}…` : line}`);
    }
    return lines.join('\n');
  }

  properties(): string[] {
    return [...this.counts.keys()];
  }
}

export interface FuzzRun {
  seed: number;
  ledger: Ledger;
  /** Lines for the log of the first test: case counts, coverage, timing. */
  notes: string[];
}

/**
 * One fuzz run shared by several ava tests, one per property, so a report names
 * every property that failed (ava shows only the first failed assertion of a test).
 * The run starts with the first test and its teardowns belong to that test.
 */
export function fuzzSuite(
  name: string,
  properties: readonly string[],
  run: (context: {seed: number; ledger: Ledger; note: (line: string) => void; t: ExecutionContext}) => void | Promise<void>,
): void {
  const seed = chooseSeed();
  let pending: Promise<FuzzRun> | undefined;
  const result = (t: ExecutionContext) => pending ??= (async () => {
    const ledger = new Ledger(seed);
    const notes: string[] = [];
    const started = Date.now();
    await run({seed, ledger, note: line => notes.push(line), t});
    notes.push(`${ledger.cases} cases in ${Date.now() - started} ms`);
    return {seed, ledger, notes};
  })();
  properties.forEach((property, i) => {
    test.serial(`${name}: ${property}`, async t => {
      const {ledger, notes} = await result(t);
      t.log(`fuzz seed ${seed} (replay with MARKLOG_FUZZ_SEED=${seed})`);
      if (i === 0) {
        for (const line of notes) t.log(line);
        const unknown = ledger.properties().filter(p => !properties.includes(p));
        for (const p of unknown) t.is(ledger.count(p), 0, ledger.report(p));
      }
      t.is(ledger.count(property), 0, ledger.report(property));
    });
  });
}
