// Frames for the NBD wire fuzzer: well-formed client flags, options and requests
// built with the encoders of nbd-wire.ts, then often mutated — a field set to one of
// its edges (written big-endian here: the generic mutator's field writes are
// little-endian), bits flipped, bytes cut, added or moved — and plain random bytes,
// some of them behind a valid magic so they get past the first check.
import {Rng, mutate} from './fuzz.js';
import type {ExportView} from './nbd-model.js';
import {describeRequest} from './nbd-model.js';
import {CMD, CMD_FLAG, MAGIC, MAX_PAYLOAD, OPT, clientFlags, infoData, option, request} from './nbd-wire.js';

export interface Frame {
  bytes: Buffer;
  what: string;
}

interface BeField {
  name: string;
  offset: number;
  size: 2 | 4 | 8;
  edges: bigint[];
}

const U64 = (1n << 64n) - 1n;

function setField(bytes: Buffer, field: BeField, value: bigint): void {
  if (field.offset + field.size > bytes.length) return;
  const v = value & ((1n << BigInt(field.size * 8)) - 1n);
  if (field.size === 2) bytes.writeUInt16BE(Number(v), field.offset);
  else if (field.size === 4) bytes.writeUInt32BE(Number(v), field.offset);
  else bytes.writeBigUInt64BE(v, field.offset);
}

/** Sometimes a field at an edge, sometimes positional damage, sometimes both; the steps taken, for the report. */
function damage(rng: Rng, bytes: Buffer, fields: BeField[], p: number): {bytes: Buffer; steps: string[]} {
  const steps: string[] = [];
  if (!rng.chance(p)) return {bytes, steps};
  let out: Buffer = Buffer.from(bytes);
  const byField = rng.chance(0.7);
  if (byField) {
    for (let n = rng.range(1, 2); n > 0; n--) {
      const field = rng.pick(fields);
      const value = rng.chance(0.8) ? rng.pick(field.edges) : field.size === 8 ? rng.u64() : BigInt(rng.u32() & (field.size === 2 ? 0xffff : 0xffffffff));
      setField(out, field, value);
      steps.push(`${field.name}=${value}`);
    }
  }
  if (!byField || rng.chance(0.3)) {
    const mutated = mutate(rng, out, {maxSteps: 2, maxGrowth: 32});
    out = mutated.bytes;
    steps.push(...mutated.steps);
  }
  return {bytes: out, steps};
}

function named(what: string, steps: string[]): string {
  return steps.length ? `${what} [${steps.join('; ')}]` : what;
}

/** Random bytes, at times behind a valid magic. */
export function noise(rng: Rng, magic?: Buffer): Frame {
  const length = rng.chance(0.9) ? rng.range(1, 64) : rng.range(65, 700);
  const bytes = rng.bytes(length);
  if (magic && rng.chance(0.5)) magic.copy(bytes, 0, 0, Math.min(magic.length, length));
  return {bytes, what: `${length} random bytes ${bytes.toString('hex', 0, 12)}…`};
}

export function flagsFrame(rng: Rng): Frame {
  if (rng.chance(0.95)) {
    const flags = rng.pick([3, 3, 3, 1, 2, 0]);
    return {bytes: clientFlags(flags), what: `client flags ${flags}`};
  }
  const flags = rng.chance(0.5) ? (3 | (1 << rng.int(32))) >>> 0 : rng.u32();
  return {bytes: clientFlags(flags), what: `client flags 0x${flags.toString(16)}`};
}

function someName(rng: Rng, view: ExportView): Buffer {
  switch (rng.int(6)) {
    case 0: return Buffer.from(`vol-${rng.int(1000)}`);
    case 1: return rng.bytes(rng.range(0, 40));
    case 2: return Buffer.alloc(rng.chance(0.5) ? 4097 : rng.range(257, 5000), 0x61);
    case 3: return Buffer.from(`${rng.pick(view.names)}\0`);
    default: return Buffer.from(rng.pick(view.names));
  }
}

function infoRequests(rng: Rng): number[] {
  return Array.from({length: rng.int(5)}, () => (rng.chance(0.7) ? rng.int(4) : rng.int(0x10000)));
}

const UNKNOWN_OPTIONS = [0, 4, OPT.startTls, OPT.structuredReply, OPT.listMetaContext, OPT.setMetaContext, 11, 12, 13, 0x7fffffff, 0x80000000, 0xffffffff];

/**
 * One option; `enter` asks for one that should take the connection to `view`'s
 * transmission phase. `rate` scales how often it is damaged.
 */
export function optionFrame(rng: Rng, view: ExportView, enter: boolean, rate = 1): Frame {
  let number: number;
  let data: Buffer;
  let what: string;
  if (enter) {
    const go = rng.chance(0.75);
    const name = rng.pick(view.names);
    number = go ? OPT.go : OPT.exportName;
    data = go ? infoData(name, infoRequests(rng)) : Buffer.from(name);
    what = `${go ? 'GO' : 'EXPORT_NAME'} "${name.slice(0, 12)}"`;
  } else {
    // ABORT and an unknown EXPORT_NAME end the connection: rarer, so that others get further.
    const kind = rng.chance(0.08) ? rng.pick(['abort', 'export-unknown'] as const) : rng.pick(['list', 'list', 'info', 'info', 'go-unknown', 'go-bad', 'unknown', 'unknown', 'unknown'] as const);
    number = {list: OPT.list, info: OPT.info, 'go-unknown': OPT.go, 'go-bad': OPT.go, unknown: 0, abort: OPT.abort, 'export-unknown': OPT.exportName}[kind];
    if (kind === 'unknown') number = rng.chance(0.8) ? rng.pick(UNKNOWN_OPTIONS) : rng.u32();
    data = Buffer.alloc(0);
    if (kind === 'info') data = infoData(someName(rng, view), infoRequests(rng));
    if (kind === 'go-unknown') data = infoData(`no-${rng.int(100)}`);
    if (kind === 'go-bad') data = Buffer.concat([infoData(someName(rng, view), infoRequests(rng)).subarray(0, rng.range(0, 8)), rng.bytes(rng.int(4))]);
    if (kind === 'export-unknown') data = Buffer.from(`none-${rng.int(100)}`);
    if (kind === 'unknown' || (kind === 'list' && rng.chance(0.2))) data = rng.chance(0.03) ? rng.bytes(rng.range(4097, 70_000)) : rng.bytes(rng.int(200));
    what = `${kind} option ${number}`;
  }
  const frame = option(number, data);
  const edges = [0n, 1n, BigInt(data.length) - 1n, BigInt(data.length) + 1n, 65536n, 65537n, 0x80000000n, 0xffffffffn];
  const {bytes, steps} = damage(rng, frame, [
    {name: 'magic', offset: 0, size: 8, edges: [MAGIC.ihaveopt ^ 1n, 0n, MAGIC.nbd, MAGIC.optionReply, U64]},
    {name: 'option', offset: 8, size: 4, edges: [0n, 1n, 2n, 3n, 6n, 7n, 8n, 0xffffffffn]},
    {name: 'length', offset: 12, size: 4, edges},
  ], (enter ? 0.15 : 0.3) * rate);
  return {bytes, what: named(`${what}, ${data.length} bytes`, steps)};
}

/** One request for `view`; writes, trims and zeroes aim at `free` (the guard in the model keeps them there). */
export function requestFrame(rng: Rng, view: ExportView, free: {from: number; to: number}, cookie: bigint, rate = 1): Frame {
  const cap = view.capacity;
  const type = rng.chance(0.02) ? CMD.disc : rng.pick([CMD.read, CMD.read, CMD.read, CMD.write, CMD.write, CMD.write, CMD.write, CMD.flush, CMD.trim,
    CMD.writeZeroes, CMD.writeZeroes, CMD.cache, CMD.blockStatus, rng.range(8, 0xffff)]);
  const length = rng.pick([1, 512, 4096, rng.range(1, 8192), rng.range(1, 8192), rng.range(1, 65536), 131072]);
  const writes = type === CMD.write || type === CMD.trim || type === CMD.writeZeroes;
  const area = writes ? free : {from: 0, to: cap};
  const span = Math.max(1, Math.min(length, area.to - area.from));
  const offset = type === CMD.flush || type === CMD.disc ? 0 : area.from + rng.int(Math.max(1, area.to - area.from - span + 1));
  const size = type === CMD.flush || type === CMD.disc ? 0 : span;
  const flags = rng.chance(0.7) ? 0 : rng.pick([CMD_FLAG.fua, CMD_FLAG.fua, CMD_FLAG.noHole, CMD_FLAG.fua | CMD_FLAG.noHole]);
  const payload = type !== CMD.write ? undefined : size <= 4096 ? rng.bytes(size) : Buffer.alloc(size, rng.int(256));
  const frame = request(type, {flags, cookie, offset, length: size, payload});
  const end = BigInt(cap);
  const {bytes, steps} = damage(rng, frame, [
    {name: 'magic', offset: 0, size: 4, edges: [BigInt(MAGIC.request ^ 1), 0n, 0x12560953n, BigInt(MAGIC.simpleReply), 0xffffffffn]},
    {name: 'flags', offset: 4, size: 2, edges: [...Array.from({length: 16}, (_, k) => BigInt(1 << k)), 0xffffn]},
    {name: 'type', offset: 6, size: 2, edges: [0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 0xffffn]},
    {name: 'cookie', offset: 8, size: 8, edges: [0n, U64]},
    {name: 'offset', offset: 16, size: 8, edges: [0n, end - 1n, end, end + 1n, end - BigInt(size), end - BigInt(size) + 1n, 1n << 63n, U64, U64 - BigInt(size) + 2n, (1n << 53n) - 1n, 1n << 53n, 1n << 32n]},
    {name: 'length', offset: 24, size: 4, edges: [0n, 1n, end, end + 1n, end - BigInt(offset) + 1n, BigInt(MAX_PAYLOAD), BigInt(MAX_PAYLOAD + 1), 0x80000000n, 0xffffffffn]},
  ], 0.4 * rate);
  return {bytes, what: named(bytes.length >= 28 ? describeRequest(bytes) : `${bytes.length} bytes of a request`, steps)};
}
