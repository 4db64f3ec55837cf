// docs/WIRE.md against the codec: the worked frames of §9 decode field by field,
// their CRCs check with a CRC-32C of the test's own, the encoder writes exactly those
// bytes, and the tables of §3.2, §3.4, §4 and §7 say what the constants say.
import fs from 'node:fs';
import {fileURLToPath} from 'node:url';
import test from 'ava';
import {decodeFrames, WireDecoder} from '../../src/format/wire-decoder.js';
import {
  encodeFrame, FrameType, MAX_BINARY_BYTES, MAX_FRAME_BYTES, MAX_JSON_BYTES, WIRE_HEADER_SIZE, WIRE_TRAILER_SIZE, WireHeader, type WireFrame,
} from '../../src/format/wire-frame.js';
import {WIRE_ONLY_METHODS, WireMethod, type WireMethodName} from '../../src/format/wire-methods.js';
import {rebuildError} from '../../src/format/wire-errors.js';
import {LogFullError} from '../../src/errors.js';
import type {SiteLink} from '../../src/site/link.js';
import {crc32cOf} from '../helpers/fuzz.js';

const read = (relative: string) => fs.readFileSync(fileURLToPath(new URL(relative, import.meta.url)), 'utf8');
const WIRE = read('../../../docs/WIRE.md');

function section(heading: string): string {
  const start = WIRE.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`WIRE.md has no heading ${heading}`);
  const level = heading.split(' ')[0];
  const rest = WIRE.slice(start + heading.length + 2);
  const next = rest.search(new RegExp(`\\n#{2,${level.length}} `));
  return next < 0 ? rest : rest.slice(0, next);
}

/** The cells of the first table in a section, header and separator rows left out. */
function tableRows(heading: string): string[][] {
  const lines = section(heading).split('\n');
  const first = lines.findIndex(line => line.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split('|').slice(1, -1).map(cell => cell.trim()));
  }
  return rows;
}

/** The hex dumps of §9, in order: each line is an offset, 16 bytes and their ASCII. */
function examples(): Buffer[] {
  return [...section('## 9. Worked examples').matchAll(/```\n([\s\S]*?)```/g)].map(([, block]) => Buffer.from(block.trim().split('\n')
    .map(line => line.slice(6, 6 + 47).trim().replaceAll(' ', '')).join(''), 'hex'));
}

const LOG_FULL = new LogFullError('log group 1 is full (40 of 1056768 bytes free, the record needs 96)',
  'apply the log up to a mark (`marklog log apply`) or add a pool volume (`marklog log extend`)');

const FRAMES: WireFrame[] = [
  {type: 'hello', ack: 6, hello: {protocol: {min: 1, max: 1}, session: '5c1e0a97d3b24f68', client: 'e6c8da65d963855a', site: '7eadaf9de184b04e'}},
  {
    type: 'request', id: 7, ack: 6, method: WireMethod.appendToLog,
    json: {group: 1, entries: [{kind: 'write', ldev: 3, address: 1_048_576, length: 16}]}, binary: Buffer.from('hello, marklog!!'),
  },
  {type: 'error', id: 7, ack: 7, method: WireMethod.appendToLog, error: {code: 'LOG_FULL', message: LOG_FULL.message, hint: LOG_FULL.hint}},
];

test('WIRE.md §9: the worked HELLO, REQUEST and ERROR decode to exactly the frames the page describes', t => {
  const dumps = examples();
  t.is(dumps.length, 3);
  t.deepEqual(dumps.map(bytes => bytes.length), [157, 139, 245]);
  for (const [i, bytes] of dumps.entries()) t.deepEqual(decodeFrames(bytes), [FRAMES[i]].map(f => f.type === 'request' ? {...f, binary: Buffer.from(f.binary!)} : f));
});

test('WIRE.md §9: every header CRC and body CRC checks with a CRC-32C computed here from §3.2 and §3.3 alone', t => {
  const stated = [[0x47ffec84, 0xb8352c78], [0xe8c60010, 0x4b73bc85], [0x23a6f3fe, 0x0db6578f]];
  for (const [i, bytes] of examples().entries()) {
    t.is(bytes.subarray(0, 4).toString('ascii'), 'MLWF');
    t.is(bytes[4], 1);
    const jsonLength = bytes.readUInt32LE(24);
    const binaryLength = bytes.readUInt32LE(28);
    t.is(bytes.length, 40 + jsonLength + binaryLength + 4, 'the frame is exactly header, parts and trailer');
    t.is(crc32cOf(bytes.subarray(0, 36)), bytes.readUInt32LE(36));
    t.is(crc32cOf(bytes.subarray(40, 40 + jsonLength), bytes.subarray(40 + jsonLength, 40 + jsonLength + binaryLength)), bytes.readUInt32LE(bytes.length - 4));
    t.deepEqual([bytes.readUInt32LE(36), bytes.readUInt32LE(bytes.length - 4)], stated[i], 'the values the field tables print');
  }
});

test('the encoder writes exactly the documented bytes, and the three frames read the same one byte at a time', t => {
  const dumps = examples();
  t.deepEqual(FRAMES.map(encodeFrame), dumps);
  const decoder = new WireDecoder();
  const frames: WireFrame[] = [];
  const stream = Buffer.concat(dumps);
  for (let i = 0; i < stream.length; i++) decoder.push(stream.subarray(i, i + 1), frame => frames.push(frame));
  decoder.end();
  t.deepEqual(frames, decodeFrames(stream));
});

test('WIRE.md §9: the worked ERROR is rebuilt as the LogFullError it was sent for', t => {
  const [frame] = decodeFrames(examples()[2]);
  if (frame.type !== 'error') return t.fail(frame.type);
  const error = rebuildError(frame.error);
  t.true(error instanceof LogFullError);
  t.like(error, {code: 'LOG_FULL', exitCode: 7, message: LOG_FULL.message, hint: LOG_FULL.hint});
});

test('WIRE.md §3.2 lists every header field at the offset the codec uses, with sizes that fill 40 bytes', t => {
  const rows = tableRows('### 3.2 Header');
  t.deepEqual(Object.fromEntries(rows.map(([offset, , , field]) => [field, Number(offset)])), {...WireHeader});
  let next = 0;
  for (const [offset, size] of rows) {
    t.is(Number(offset), next, `the field at ${offset} follows the one before it`);
    next += Number(size);
  }
  t.is(next, WIRE_HEADER_SIZE);
});

test('WIRE.md §3.4 states the limits the codec applies', t => {
  const bytes = tableRows('### 3.4 Limits').map(([, limit]) => Number(limit.split(' bytes')[0].replaceAll(' ', '')));
  t.deepEqual(bytes, [MAX_JSON_BYTES, MAX_BINARY_BYTES, MAX_FRAME_BYTES]);
  t.is(MAX_FRAME_BYTES, WIRE_HEADER_SIZE + MAX_JSON_BYTES + MAX_BINARY_BYTES + WIRE_TRAILER_SIZE);
});

test('WIRE.md §4 lists every frame type with the value the codec uses', t => {
  const rows = tableRows('## 4. Frame types');
  t.deepEqual(Object.fromEntries(rows.map(([type, value]) => [type.toLowerCase(), Number(value)])), {...FrameType});
});

test('WIRE.md §7 lists every method code the codec uses, and nothing else', t => {
  const rows = tableRows('## 7. Methods');
  t.deepEqual(Object.fromEntries(rows.map(([code, method]) => [method, Number(code)])), {...WireMethod});
  t.is(new Set(Object.values(WireMethod)).size, Object.keys(WireMethod).length, 'no code is given twice');
});

// A SiteLink method without a code does not compile here.
type LinkMethod = {[K in keyof SiteLink]: SiteLink[K] extends (...args: never[]) => unknown ? K : never}[keyof SiteLink];
const everyLinkMethodHasACode: Record<LinkMethod, number> = WireMethod;

test('every method of the SiteLink interface has a code, read from src/site/link.ts as well as checked by the compiler; the other codes are the wire\'s own', t => {
  const source = read('../../../src/site/link.ts');
  const body = source.slice(source.indexOf('export interface SiteLink'));
  const names = [...body.slice(0, body.indexOf('\n}')).matchAll(/^ {2}(\w+)\(/gm)].map(([, name]) => name);
  const wireOnly = new Set<string>(WIRE_ONLY_METHODS);
  t.deepEqual(names.sort(), (Object.keys(everyLinkMethodHasACode) as WireMethodName[]).filter(name => !wireOnly.has(name)).sort());
  t.false(names.some(name => wireOnly.has(name)), 'a wire-only method is no SiteLink method');
});
