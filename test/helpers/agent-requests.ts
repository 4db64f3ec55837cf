// The requests of the agent fuzz test (test/fuzz/wire-agent.test.ts): for each method
// of docs/WIRE.md §7, the arguments a primary would send this remote site, built from
// what earlier answers told it (the R-VOL it reserved, the image transfers it began,
// its log groups), and the ways one goes wrong while its frame stays well formed:
// members retyped, missing or added, numbers past their limits, ranges past the
// volume, LDEVs and transfers that do not exist, another method's code or an unknown
// one, a binary part of the wrong length, and JSON text that JSON.stringify never
// writes (1e999, duplicate keys, deep nesting, a root that is no object).
import {bodyCrcOf, encodeHeader, FrameType} from '../../src/format/wire-frame.js';
import {WireMethod, type WireMethodName} from '../../src/format/wire-methods.js';
import type {Rng} from './fuzz.js';
import type {Answer} from './wire-client.js';
import {get, mutateJson, mutateText, paths, setOwn, type Json, type Path} from './json-fuzz.js';

/** The primary site the requests act for. */
export const PRIMARY = 'e6c8da65d963855a';
const TIME = '2025-04-01T09:00:00.000Z';

export interface Volume {
  ldev: number;
  capacity: number;
  pool: boolean;
}

export interface Claim {
  pair: number;
  primarySite: string;
  mvol: number;
}

/** What the client knows of the remote from the answers so far. */
export interface Knowledge {
  volumes: Volume[];
  /** The R-VOL the client reserved, and its claim. */
  rvol: number;
  claim: Claim;
  /** Other volumes reserved by requests answered with RESPONSE, with the claims they hold. */
  reserved: {ldev: number; claim: Claim}[];
  /** Image transfers this session began and has not finished. */
  transfers: string[];
  /** Transfers finished, or begun by sessions that ended: open nowhere. */
  closed: string[];
  groups: number[];
  tokens: number[];
  nextMarkId: number;
}

/** One request as it goes on the wire, and what was done to it. */
export interface Planned {
  method: number;
  /** The JSON part's text; undefined for none. */
  text?: string;
  binary: Buffer;
  steps: string[];
}

/** A REQUEST frame, built here so that the JSON text is sent exactly as planned (JSON.stringify would turn 1e999 into null). */
export function requestFrame(id: number, ack: number, planned: Planned): Buffer {
  const json = Buffer.from(planned.text ?? '', 'utf8');
  const header = encodeHeader({type: FrameType.request, method: planned.method, id, ack, jsonLength: json.length, binaryLength: planned.binary.length});
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32LE(bodyCrcOf(json, planned.binary));
  return Buffer.concat([header, json, planned.binary, trailer]);
}

/** How often each method is asked for: the ones that change or read bytes most, since the model checks them. */
const WEIGHTS: [WireMethodName, number][] = [
  ['writeRvol', 10], ['readRvol', 7], ['zeroRvol', 3], ['writeRvolFrom', 3], ['appendToLog', 6], ['prepareLogGroup', 3], ['stopLogGroup', 1],
  ['recordLogGap', 1], ['listMarks', 1], ['reserveRvol', 2], ['releaseRvol', 2], ['registerPeer', 1], ['receiveImage', 1],
  ['readDirtyRanges', 1], ['forgetDirtyRanges', 1], ['setDirection', 1], ['describeVolume', 1], ['findImage', 1], ['describePair', 1],
  ['flushRvol', 1], ['close', 1], ['receiveImageBegin', 3], ['receiveImageChunk', 4], ['receiveImageCommit', 2], ['receiveImageAbort', 1],
];
const TOTAL_WEIGHT = WEIGHTS.reduce((sum, [, w]) => sum + w, 0);

function pickMethod(rng: Rng): WireMethodName {
  let n = rng.int(TOTAL_WEIGHT);
  for (const [name, weight] of WEIGHTS) {
    if (n < weight) return name;
    n -= weight;
  }
  return 'writeRvol';
}

/** A range inside a volume: mostly small, sometimes sector aligned, sometimes empty or large. */
function rangeIn(rng: Rng, capacity: number): {offset: number; length: number} {
  const longest = rng.chance(0.05) ? 64 * 1024 : 8192;
  const length = rng.chance(0.05) ? 0 : rng.range(1, Math.min(capacity, longest));
  const room = capacity - length;
  const offset = rng.chance(0.4) ? rng.int(Math.floor(room / 512) + 1) * 512 : rng.int(room + 1);
  return {offset, length};
}

function pickTransfer(rng: Rng, k: Knowledge): string {
  if (k.transfers.length > 0 && rng.chance(0.85)) return rng.pick(k.transfers);
  if (k.closed.length > 0 && rng.chance(0.5)) return rng.pick(k.closed);
  return rng.bytes(8).toString('hex');
}

function pickGroup(rng: Rng, k: Knowledge): number {
  return k.groups.length > 0 && rng.chance(0.9) ? rng.pick(k.groups) : rng.range(1, 3);
}

/** The arguments a primary would send for `name`, as far as this client knows the remote. */
function validArgs(rng: Rng, k: Knowledge, name: WireMethodName): {json?: Json; binary?: Buffer} {
  const volume = rng.chance(0.65) ? k.volumes.find(v => v.ldev === k.rvol)! : rng.pick(k.volumes);
  const {ldev, capacity} = volume;
  const claim = {...k.claim};
  switch (name) {
    case 'registerPeer':
      return {json: {peer: {remote: '/srv/sites/tokyo', siteId: PRIMARY, name: 'tokyo', linked: TIME}}};
    case 'reserveRvol': {
      // For another pair, now and then: the volumes it reserves are released again below.
      const other = rng.chance(0.4) ? {...claim, pair: rng.range(2, 9), mvol: rng.range(0, 9)} : claim;
      return {json: {ldev, claim: other, minCapacity: rng.pick([0, 512, capacity])}};
    }
    case 'releaseRvol': {
      // Mostly a volume reserved for another pair: the R-VOL, released, takes its log group's members with it.
      const held = k.reserved.length > 0 && rng.chance(0.8) ? rng.pick(k.reserved) : {ldev, claim: rng.chance(0.1) ? claim : {...claim, pair: rng.range(2, 9)}};
      return {json: {ldev: held.ldev, claim: {...held.claim}, ...(rng.chance(0.5) ? {options: {force: rng.chance(0.5)}} : {})}};
    }
    case 'writeRvol': {
      const {offset, length} = rangeIn(rng, capacity);
      return {json: {ldev, offset}, binary: rng.bytes(length)};
    }
    case 'writeRvolFrom': {
      const {offset, length} = rangeIn(rng, capacity);
      return {json: {ldev, offset, length}, binary: rng.bytes(length)};
    }
    case 'zeroRvol':
    case 'readRvol': {
      const {offset, length} = rangeIn(rng, capacity);
      return {json: {ldev, offset, length}};
    }
    case 'prepareLogGroup': {
      const request: Record<string, Json> = {primarySite: PRIMARY, members: [{rvol: k.rvol, mvol: claim.mvol, pair: claim.pair}]};
      if (k.groups.length > 0 && rng.chance(0.5)) request.group = rng.pick(k.groups);
      return {json: {request}};
    }
    case 'appendToLog': {
      const data: Buffer[] = [];
      const entries = Array.from({length: rng.range(1, 4)}, (): Json => {
        const kind = rng.pick(['write', 'write', 'zero', 'mark']);
        if (kind === 'mark') return {kind, markId: k.nextMarkId++, markTime: 1_743_498_000_000_000 + rng.int(1e9), app: rng.pick(['db', 'fs', 'a'])};
        const {offset, length} = rangeIn(rng, capacity);
        if (kind === 'write') data.push(rng.bytes(length));
        return {kind, ldev: k.rvol, address: offset, length};
      });
      return {json: {group: pickGroup(rng, k), entries}, binary: Buffer.concat(data)};
    }
    case 'stopLogGroup':
    case 'listMarks':
      return {json: {group: pickGroup(rng, k)}};
    case 'recordLogGap':
      return {json: {gap: {group: pickGroup(rng, k), pair: claim.pair, mvol: claim.mvol, time: TIME, reason: 'LOG_FULL'}}};
    case 'receiveImage':
      return {json: {ldev, imageFile: '/etc/hostname', force: true}};
    case 'readDirtyRanges':
      return {json: {ldev, claim}};
    case 'forgetDirtyRanges':
      return {json: {ldev, claim, token: k.tokens.length > 0 ? rng.pick(k.tokens) : rng.range(0, 3)}};
    case 'setDirection':
      return {json: {ldev, claim, direction: rng.pick(['forward', 'reverse'])}};
    case 'describeVolume':
    case 'flushRvol':
      return {json: {ldev}};
    case 'findImage':
      return {json: {identity: `${rng.int(300)}:${rng.int(1_000_000)}`}};
    case 'describePair':
      return {json: {pair: rng.chance(0.5) ? claim.pair : rng.range(0, 4)}};
    case 'close':
      return rng.chance(0.5) ? {json: {}} : {};
    case 'receiveImageBegin':
      return {json: {ldev, force: rng.chance(0.85)}};
    case 'receiveImageChunk': {
      const {offset, length} = rangeIn(rng, capacity);
      return {json: {transfer: pickTransfer(rng, k), offset}, binary: rng.bytes(length)};
    }
    case 'receiveImageCommit':
      return {json: {transfer: pickTransfer(rng, k), force: rng.chance(0.85)}};
    case 'receiveImageAbort':
      return {json: {transfer: pickTransfer(rng, k)}};
  }
}

const ODD_VALUES: [Json, string][] = [
  [-1, '-1'], [1.5, '1.5'], [-0.5, '-0.5'], [2 ** 53, '2^53'], [2 ** 64, '2^64'], [1e300, '1e300'], [-1e300, '-1e300'], ['7', '"7"'],
  ['NaN', '"NaN"'], ['Infinity', '"Infinity"'], ['', '""'], [null, 'null'], [true, 'true'], [false, 'false'], [[], '[]'], [[0], '[0]'],
  [{}, '{}'], [{ldev: 0}, '{ldev:0}'], ['0123456789abcdef', 'a hex id'], ['../../tables.json', 'a path'], ['é🦀\u0000', 'odd text'],
];

/** Members a site's own rows have, which a request must never smuggle into them. */
const EXTRA_MEMBERS: [string, Json][] = [
  ['takeover', {since: TIME, bitmap: 'pairs/forged.bitmap', chunkSize: 65536, group: 1}], ['takeover', 5], ['direction', 'reverse'],
  ['__proto__', {ldev: 0}], ['constructor', 1], ['toString', 'x'], ['logGroup', 1], ['reserve', 'LOG'], ['extra', [1, 2]], ['rvol', 1],
];

/** The container at `path` (an object or an array), or undefined where there is none. */
function containerAt(root: Json, path: Path): Record<string | number, Json> | undefined {
  const node = get(root, path);
  return node !== null && typeof node === 'object' ? node as Record<string | number, Json> : undefined;
}

/** The numbers just past what a member of this volume may hold. */
function edgesFor(volume: Volume, current: number): number[] {
  return [0, 1, volume.capacity - 1, volume.capacity, volume.capacity + 1, current + volume.capacity, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1, 2 ** 32, -current - 1, current + 0.5];
}

type Draft = {method: number; json?: Json; binary: Buffer};

/** One of the ways a request goes wrong, done to the draft in place; `steps` says which. */
function damage(rng: Rng, k: Knowledge, planned: Draft, steps: string[]): void {
  const volume = rng.pick(k.volumes);
  const json = planned.json;
  // Every member's path, the root's left out.
  const members = json !== null && typeof json === 'object' ? paths(json).slice(1) : [];
  switch (rng.pick(['structure', 'retype', 'retype', 'delete', 'extra', 'edge', 'edge', 'ldev', 'ids', 'method', 'binary', 'binary'])) {
    case 'structure': {
      const mutated = mutateJson(rng, json ?? {}, 2);
      planned.json = mutated.value;
      steps.push(...mutated.steps);
      return;
    }
    case 'retype': {
      if (members.length === 0) break;
      const path = rng.pick(members);
      const [value, what] = rng.pick(ODD_VALUES);
      setOwn(containerAt(json!, path.slice(0, -1))!, path.at(-1)!, JSON.parse(JSON.stringify(value)));
      steps.push(`${path.join('.')} = ${what}`);
      return;
    }
    case 'delete': {
      if (members.length === 0) break;
      const path = rng.pick(members);
      const parent = containerAt(json!, path.slice(0, -1))!;
      if (Array.isArray(parent)) parent.splice(path.at(-1) as number, 1);
      else delete parent[path.at(-1)!];
      steps.push(`delete ${path.join('.')}`);
      return;
    }
    case 'extra': {
      const objects = [[] as Path, ...members].filter(p => {
        const node = p.length === 0 ? json : containerAt(json!, p);
        return node !== null && typeof node === 'object' && !Array.isArray(node);
      });
      if (json === null || typeof json !== 'object' || objects.length === 0) break;
      const path = rng.pick(objects);
      const [name, value] = rng.pick(EXTRA_MEMBERS);
      setOwn(path.length === 0 ? json as Record<string, Json> : containerAt(json, path)!, name, JSON.parse(JSON.stringify(value)));
      steps.push(`${path.length ? path.join('.') : '(root)'}.${name} = ${JSON.stringify(value)}`);
      return;
    }
    case 'edge': {
      const numbers = members.filter(p => typeof containerAt(json!, p.slice(0, -1))![p.at(-1)!] === 'number');
      if (numbers.length === 0) break;
      const path = rng.pick(numbers);
      const parent = containerAt(json!, path.slice(0, -1))!;
      const value = rng.pick(edgesFor(volume, parent[path.at(-1)!] as number));
      parent[path.at(-1)!] = value;
      steps.push(`${path.join('.')} = ${value} (LDEV ${volume.ldev} holds ${volume.capacity})`);
      return;
    }
    case 'ldev': {
      if (json === null || typeof json !== 'object' || Array.isArray(json) || !('ldev' in json)) break;
      const ldev = rng.pick([...k.volumes.map(v => v.ldev), k.volumes.length, 99, Number.MAX_SAFE_INTEGER]);
      json.ldev = ldev;
      steps.push(`ldev = ${ldev}`);
      return;
    }
    case 'ids': {
      if (json === null || typeof json !== 'object' || Array.isArray(json)) break;
      if ('transfer' in json) json.transfer = rng.pick<Json>(['0123456789abcdef', 'ffffffffffffffff', 'zz', '../receiving/x', 'ABCDEF0123456789', '', 7, ...k.closed]);
      else if ('claim' in json) {
        json.claim = rng.pick<Json>([{...k.claim, pair: k.claim.pair + 1}, {...k.claim, primarySite: 'ffffffffffffffff'}, {...k.claim, mvol: 0}, {pair: k.claim.pair},
          // What a claim becomes at the remote (its rvolOf) has members no request may set.
          {...(json.claim as Record<string, Json>), takeover: rng.pick<Json>([5, 'x', {since: TIME, bitmap: 'pairs/forged.bitmap'}])}, {...(json.claim as Record<string, Json>), direction: 'reverse'}]);
      }
      else if ('token' in json) json.token = rng.pick([0, 2 ** 40, Number.MAX_SAFE_INTEGER]);
      else if ('group' in json) json.group = rng.pick([0, 9, Number.MAX_SAFE_INTEGER]);
      else break;
      steps.push(`bogus ids: ${JSON.stringify(json).slice(0, 120)}`);
      return;
    }
    case 'method': {
      const code = rng.chance(0.6) ? rng.range(1, 25) : rng.pick([13, 26, 27, 255, 256, 0x7fff, 0xffff, rng.range(26, 0xffff)]);
      planned.method = code;
      steps.push(`method code ${code}`);
      return;
    }
    case 'binary': {
      const kind = rng.pick(['drop', 'longer', 'shorter', 'large', 'attach']);
      if (kind === 'drop') planned.binary = Buffer.alloc(0);
      else if (kind === 'longer') planned.binary = Buffer.concat([planned.binary, rng.bytes(rng.range(1, 600))]);
      else if (kind === 'shorter') planned.binary = planned.binary.subarray(0, rng.int(planned.binary.length + 1));
      // Past the end of the smaller volumes; well within one frame (§3.4), whose limit would end the connection.
      else if (kind === 'large') planned.binary = Buffer.alloc(Math.min(2 * 1024 * 1024, volume.capacity + 1), rng.int(256));
      else planned.binary = rng.bytes(rng.range(1, 64));
      steps.push(`binary part: ${kind} (${planned.binary.length} bytes)`);
      return;
    }
  }
  steps.push('(no change)');
}

function textOf(json: Json | undefined): string | undefined {
  return json === undefined ? undefined : JSON.stringify(json);
}

/** JSON text no JSON.stringify writes, but still JSON: the frame stays well formed. */
function textDamage(rng: Rng, volume: Volume, text: string | undefined, steps: string[]): string | undefined {
  const change = rng.pick(['rewrite', 'rewrite', 'rewrite', 'whole', 'none', 'duplicate', 'deep']);
  let out: string | undefined;
  if (change === 'whole' || text === undefined) out = rng.pick(['[]', '5', '"x"', 'null', 'true', '{}', '[{"ldev":0}]', ' {"ldev" : 0 } ', '{"ldev":1e999}']);
  else if (change === 'none') out = undefined;
  // A member named twice: JSON.parse keeps the last.
  else if (change === 'duplicate') out = text.replace(/\}$/, `,"ldev":${rng.pick(['"x"', '-1', String(volume.ldev)])},"offset":${rng.pick(['1e999', '-0', '9007199254740993', '1.0'])}}`);
  else if (change === 'deep') out = text.replace(/^\{/, `{"nest":${'['.repeat(3000)}${']'.repeat(3000)},`);
  else out = mutateText(rng, text).text;
  try {
    if (out !== undefined) JSON.parse(out);
  } catch {
    steps.push(`JSON text: ${change}, no longer JSON, so left as it was`);
    return text;
  }
  steps.push(`JSON text: ${change}: ${out === undefined ? 'none' : out.length > 120 ? `${out.slice(0, 120)}…` : out}`);
  return out;
}

/**
 * The next request: a valid one for a method chosen by weight (a quarter of the
 * time), or one with 1-3 of the damages above, and sometimes its JSON text
 * rewritten last. Either way its frame is well formed.
 */
export function planRequest(rng: Rng, k: Knowledge, valid = rng.chance(0.25)): Planned {
  const name = pickMethod(rng);
  const args = validArgs(rng, k, name);
  const draft: Draft = {method: WireMethod[name], json: args.json, binary: args.binary ?? Buffer.alloc(0)};
  const steps: string[] = [name];
  if (valid) return {method: draft.method, text: textOf(draft.json), binary: draft.binary, steps};
  const n = rng.range(1, 3);
  for (let i = 0; i < n; i++) damage(rng, k, draft, steps);
  let text = textOf(draft.json);
  if (rng.chance(0.15)) text = textDamage(rng, rng.pick(k.volumes), text, steps);
  return {method: draft.method, text, binary: draft.binary, steps};
}

/** What an answer tells the client: transfers begun and finished, log groups, hand-over tokens. */
export function learn(k: Knowledge, request: {method: number; json: unknown}, answer: Answer): void {
  const args = (typeof request.json === 'object' && request.json !== null ? request.json : {}) as Record<string, unknown>;
  const result = (answer.type === 'response' ? answer.json : undefined) as Record<string, unknown> | undefined;
  if (request.method === WireMethod.receiveImageBegin && typeof result?.transfer === 'string') k.transfers.push(result.transfer);
  if ((request.method === WireMethod.receiveImageCommit || request.method === WireMethod.receiveImageAbort) && answer.type === 'response') {
    k.transfers = k.transfers.filter(t => t !== args.transfer);
    k.closed.push(args.transfer as string);
  }
  if (request.method === WireMethod.reserveRvol && answer.type === 'response' && args.ldev !== k.rvol) k.reserved = [...k.reserved.slice(-7), {ldev: args.ldev as number, claim: args.claim as Claim}];
  if (request.method === WireMethod.releaseRvol && answer.type === 'response') k.reserved = k.reserved.filter(r => r.ldev !== args.ldev);
  if (request.method === WireMethod.prepareLogGroup && typeof result?.group === 'number' && !k.groups.includes(result.group)) k.groups.push(result.group);
  if ((request.method === WireMethod.readDirtyRanges || request.method === WireMethod.setDirection) && typeof result?.token === 'number') k.tokens.push(result.token);
}

/** The agent ended, and with it every transfer it had open. */
export function sessionEnded(k: Knowledge): void {
  k.closed = [...k.closed, ...k.transfers].slice(-16);
  k.transfers = [];
}
