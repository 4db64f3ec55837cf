// The frame codec against docs/WIRE.md §3.5 and §4: each check of the reading table
// fails with its code and reason, limits are refused before room is made for the
// body, a stream cut anywhere reads the same, and the encoder refuses what a reader
// would.
import test from 'ava';
import {decodeFrames, WireDecoder} from '../../src/format/wire-decoder.js';
import {encodeFrame, FrameType, MAX_BINARY_BYTES, MAX_JSON_BYTES, WireHeader, type WireFrame} from '../../src/format/wire-frame.js';
import {methodName, methodOfRequest, WireMethod} from '../../src/format/wire-methods.js';
import {MarklogError, RemoteUnreachableError, WireCorruptError} from '../../src/errors.js';
import {crc32cOf, largestAllocation} from '../helpers/fuzz.js';

const HELLO: WireFrame = {type: 'hello', ack: 0, hello: {protocol: {min: 1, max: 3}, session: '0000000000000000', client: 'e6c8da65d963855a', site: ''}};
const WELCOME: WireFrame = {type: 'welcome', ack: 0, welcome: {protocol: 1, session: '5c1e0a97d3b24f68', site: {id: '7eadaf9de184b04e', name: 'osaka', role: 'remote'}}};
const READ: WireFrame = {type: 'request', id: 1, ack: 0, method: WireMethod.readRvol, json: {ldev: 0, offset: 0, length: 5}};
const ANSWER: WireFrame = {type: 'response', id: 1, ack: 1, method: WireMethod.readRvol, binary: Buffer.from('hello')};

/** Rewrites a header field and makes the header CRC right again, so only the check under test fails. */
function withField(frame: Buffer, at: number, write: (b: Buffer) => void, fixCrc = true): Buffer {
  const out = Buffer.from(frame);
  write(out.subarray(at));
  if (fixCrc) out.writeUInt32LE(crc32cOf(out.subarray(0, WireHeader.headerCrc)), WireHeader.headerCrc);
  return out;
}

/** Makes the body CRC right again after the body was changed. */
function fixBodyCrc(frame: Buffer): Buffer {
  const end = frame.length - 4;
  frame.writeUInt32LE(crc32cOf(frame.subarray(40, end)), end);
  return frame;
}

function failure(bytes: Buffer, options?: {from?: 'client' | 'agent'}): MarklogError {
  try {
    decodeFrames(bytes, options);
  } catch (error) {
    if (error instanceof MarklogError) return error;
    throw error;
  }
  throw new Error('decoded without an error');
}

const request = encodeFrame(READ);
const rows: [string, Buffer, string, string?][] = [
  ['1: bad magic', withField(request, 0, b => b.write('MLWG')), 'WIRE_CORRUPT', 'bad magic'],
  ['2: another layout version', withField(request, 4, b => b.writeUInt8(2, 0)), 'WIRE_VERSION'],
  ['3: header checksum', withField(request, 8, b => b.writeUInt8(2, 0), false), 'WIRE_CORRUPT', 'header checksum mismatch'],
  ['4: a flag set', withField(request, WireHeader.flags, b => b.writeUInt16LE(1, 0)), 'WIRE_CORRUPT', 'flags or reserved bits set'],
  ['4: a reserved bit set', withField(request, WireHeader.reserved, b => b.writeUInt16LE(0x8000, 0)), 'WIRE_CORRUPT', 'flags or reserved bits set'],
  ['5: an id above 2^53 - 1', withField(request, WireHeader.id, b => b.writeBigUInt64LE(2n ** 53n, 0)), 'WIRE_CORRUPT', 'id or ack above 2^53 - 1'],
  ['5: an ack above 2^53 - 1', withField(request, WireHeader.ack, b => b.writeBigUInt64LE(2n ** 64n - 1n, 0)), 'WIRE_CORRUPT', 'id or ack above 2^53 - 1'],
  ['6: a JSON part over 1 MiB', withField(request, WireHeader.jsonLength, b => b.writeUInt32LE(MAX_JSON_BYTES + 1, 0)), 'WIRE_TOO_LARGE'],
  ['6: a binary part over 16 MiB', withField(request, WireHeader.binaryLength, b => b.writeUInt32LE(0xffff_ffff, 0)), 'WIRE_TOO_LARGE'],
  ['7: type 0', withField(request, WireHeader.type, b => b.writeUInt8(0, 0)), 'WIRE_CORRUPT', 'unknown frame type'],
  ['7: type 9', withField(request, WireHeader.type, b => b.writeUInt8(9, 0)), 'WIRE_CORRUPT', 'unknown frame type'],
  ['8: a request without a method', withField(request, WireHeader.method, b => b.writeUInt16LE(0, 0)), 'WIRE_CORRUPT', 'bad field for its type'],
  ['8: a request with id 0', withField(request, WireHeader.id, b => b.writeBigUInt64LE(0n, 0)), 'WIRE_CORRUPT', 'bad field for its type'],
  ['8: a hello with a binary part', withField(encodeFrame(HELLO), WireHeader.binaryLength, b => b.writeUInt32LE(1, 0)), 'WIRE_CORRUPT', 'bad field for its type'],
  ['10: body checksum', (() => {
    const b = Buffer.from(request);
    b[45] ^= 0x20;
    return b;
  })(), 'WIRE_CORRUPT', 'body checksum mismatch'],
  ['11: JSON that is not UTF-8', fixBodyCrc((() => {
    const b = Buffer.from(request);
    b[41] = 0xff;
    return b;
  })()), 'WIRE_CORRUPT', 'JSON part is not UTF-8 JSON'],
  ['12: a hello without its client', fixBodyCrc(Buffer.from(encodeFrame(HELLO).toString('latin1').replace('"client"', '"clienx"'), 'latin1')), 'WIRE_CORRUPT', 'bad hello'],
  ['12: a welcome with session zero', fixBodyCrc(Buffer.from(encodeFrame(WELCOME).toString('latin1').replace('5c1e0a97d3b24f68', '0000000000000000'), 'latin1')), 'WIRE_CORRUPT', 'bad welcome'],
];

for (const [what, bytes, code, reason] of rows) {
  test(`WIRE.md §3.5 step ${what}: ${code}${reason ? ` (${reason})` : ''}`, t => {
    const error = failure(bytes);
    t.is(error.code, code);
    if (reason) t.is((error as WireCorruptError).reason, reason);
  });
}

test('WIRE.md §3.5 step 9: a reader told who is speaking refuses the other side\'s frame types, but takes an ERROR with id 0 from either', t => {
  t.is(failure(encodeFrame(READ), {from: 'agent'}).code, 'WIRE_PROTOCOL');
  t.is(failure(encodeFrame(ANSWER), {from: 'client'}).code, 'WIRE_PROTOCOL');
  const refusal: WireFrame = {type: 'error', id: 0, ack: 0, method: 0, error: {code: 'WIRE_VERSION', message: 'no common version'}};
  t.is(decodeFrames(encodeFrame(refusal), {from: 'client'}).length, 1);
  t.is(decodeFrames(encodeFrame({type: 'ping', id: 9, ack: 0}), {from: 'agent'}).length, 1);
});

test('a header announcing the largest body makes room for exactly that body and no more, and one over the limit for nothing', t => {
  const largest = withField(request, 0, b => {
    b.writeUInt32LE(MAX_JSON_BYTES, WireHeader.jsonLength);
    b.writeUInt32LE(MAX_BINARY_BYTES, WireHeader.binaryLength);
  }).subarray(0, 40);
  const decoder = new WireDecoder();
  const accepted = largestAllocation(() => decoder.push(largest, () => undefined));
  t.is(accepted.error, undefined);
  t.is(accepted.largest, MAX_JSON_BYTES + MAX_BINARY_BYTES + 4);
  t.true(failure(largest) instanceof RemoteUnreachableError, 'the stream ended inside it');
  const over = withField(largest, WireHeader.binaryLength, b => b.writeUInt32LE(MAX_BINARY_BYTES + 1, 0));
  const refused = largestAllocation(() => new WireDecoder().push(over, () => undefined));
  t.is((refused.error as MarklogError).code, 'WIRE_TOO_LARGE');
  t.true(refused.largest <= 40);
});

test('a stream that ends inside a frame, even before its fifth byte, is REMOTE_UNREACHABLE; between frames it is a clean end', t => {
  const stream = Buffer.concat([encodeFrame(HELLO), encodeFrame(READ)]);
  for (const cut of [1, 4, 5, 39, 40, stream.length - 1]) t.is(failure(stream.subarray(0, cut)).code, 'REMOTE_UNREACHABLE', `cut at ${cut}`);
  t.is(decodeFrames(stream).length, 2);
});

test('frames before a bad one are delivered, and after it the decoder repeats the same error whatever it is given', t => {
  const bad = Buffer.from(request);
  bad[50] ^= 1;
  const decoder = new WireDecoder();
  const frames: WireFrame[] = [];
  const error = t.throws(() => decoder.push(Buffer.concat([encodeFrame(HELLO), bad, encodeFrame(READ)]), frame => frames.push(frame)));
  t.deepEqual(frames.map(f => f.type), ['hello']);
  t.like(error, {code: 'WIRE_CORRUPT', streamOffset: encodeFrame(HELLO).length});
  t.is(t.throws(() => decoder.push(encodeFrame(READ), () => undefined)), error);
  t.is(t.throws(() => decoder.end()), error);
});

test('every frame type round-trips, and a stream cut at every offset reads the same frames', t => {
  const frames: WireFrame[] = [HELLO, WELCOME, READ, ANSWER,
    {type: 'error', id: 2, ack: 2, method: WireMethod.reserveRvol, error: {code: 'MARK_ID_REUSED', message: 'm', details: {nextFree: 5}}},
    {type: 'ping', id: 77, ack: 1}, {type: 'pong', id: 77, ack: 1}, {type: 'bye', ack: 2}];
  const stream = Buffer.concat(frames.map(encodeFrame));
  const whole = decodeFrames(stream);
  t.is(whole.length, frames.length);
  t.deepEqual(whole.map(f => f.type), Object.keys(FrameType));
  t.deepEqual(whole.map(encodeFrame), frames.map(encodeFrame));
  for (let cut = 0; cut <= stream.length; cut++) {
    const decoder = new WireDecoder();
    const got: WireFrame[] = [];
    decoder.push(stream.subarray(0, cut), f => got.push(f));
    decoder.push(stream.subarray(cut), f => got.push(f));
    decoder.end();
    if (got.length !== whole.length) t.fail(`cut at ${cut}`);
  }
});

test('the encoder refuses a frame a reader would refuse, and an over-long part before it is copied', t => {
  t.throws(() => encodeFrame({...READ, id: 0} as WireFrame), {instanceOf: RangeError});
  t.throws(() => encodeFrame({...READ, method: 0} as WireFrame), {instanceOf: RangeError});
  t.throws(() => encodeFrame({...READ, id: 2 ** 53} as WireFrame), {instanceOf: RangeError});
  t.throws(() => encodeFrame({type: 'error', id: 0, ack: 0, method: 3, error: {code: 'X', message: ''}}), {instanceOf: RangeError});
  t.throws(() => encodeFrame({type: 'error', id: 1, ack: 0, method: 3, error: {code: 'lower', message: ''}}), {instanceOf: RangeError});
  t.throws(() => encodeFrame({...HELLO, hello: {...(HELLO as {hello: object}).hello, session: 'x'}} as WireFrame), {instanceOf: RangeError});
  const binary = Buffer.alloc(MAX_BINARY_BYTES + 1);
  const run = largestAllocation(() => encodeFrame({...ANSWER, binary} as WireFrame));
  t.like(run.error, {code: 'WIRE_TOO_LARGE', part: 'binary part', length: MAX_BINARY_BYTES + 1});
  t.true(run.largest < 1024);
  t.like(t.throws(() => encodeFrame({...READ, json: {data: 'x'.repeat(MAX_JSON_BYTES)}} as WireFrame)), {code: 'WIRE_TOO_LARGE', part: 'JSON part'});
});

test('method codes name their methods; an unknown code is no error for a reader, and WIRE_UNKNOWN_METHOD for the agent that must run it', t => {
  t.is(methodName(9), 'appendToLog');
  t.is(methodName(999), undefined);
  t.is(decodeFrames(encodeFrame({...READ, method: 999} as WireFrame)).length, 1);
  t.like(t.throws(() => methodOfRequest(999)), {code: 'WIRE_UNKNOWN_METHOD', method: 999});
});
