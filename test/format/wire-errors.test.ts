// Errors across the wire (docs/WIRE.md §8): every class of src/errors.ts crosses as
// {code, message, hint, details} and comes back as itself, through a real frame.
import test from 'ava';
import * as errors from '../../src/errors.js';
import {FileNotSavedError, MarkIdReusedError, MarklogError, RemoteInternalError, VolumeIoError, WireCorruptError} from '../../src/errors.js';
import {decodeFrames} from '../../src/format/wire-decoder.js';
import {encodeFrame} from '../../src/format/wire-frame.js';
import {errorBodyOf, MAX_ERROR_TEXT, rebuildableCodes, rebuildError} from '../../src/format/wire-errors.js';
import {WireMethod} from '../../src/format/wire-methods.js';

/** What the client gets for an error the agent threw: the body in an ERROR frame, encoded, decoded, rebuilt. */
function acrossTheWire(error: unknown): MarklogError {
  const [frame] = decodeFrames(encodeFrame({type: 'error', id: 4, ack: 4, method: WireMethod.writeRvol, error: errorBodyOf(error)}));
  if (frame.type !== 'error') throw new Error(frame.type);
  return rebuildError(frame.error);
}

type ErrorClass = (new (...args: never[]) => MarklogError) & {name: string};
const classes = (Object.values(errors) as unknown[]).filter((value): value is ErrorClass =>
  typeof value === 'function' && value.prototype instanceof MarklogError);

test('every error class of src/errors.ts can be rebuilt from its code', t => {
  const codes = classes.map(cls => Reflect.construct(cls, []).code);
  t.deepEqual(rebuildableCodes().sort(), codes.sort());
});

test('every error class comes back as the same class, with the same code, exit code, message and hint', t => {
  for (const cls of classes) {
    const sent = Reflect.construct(cls, []) as MarklogError;
    sent.message = `cause of a ${cls.name}\twith a tab`;
    sent.hint = cls.name.length % 2 ? undefined : 'what to do';
    const back = acrossTheWire(sent);
    t.is(back.constructor, cls, cls.name);
    t.like(back, {code: sent.code, category: sent.category, exitCode: sent.exitCode, message: sent.message, hint: sent.hint}, cls.name);
    t.true(back.stack!.startsWith(`${cls.name}: ${sent.message}\n`), 'the stack names the agent\'s message');
  }
});

test('a class\'s own fields cross as details: a MarkIdReusedError keeps nextFree, so mark can retry with it', t => {
  const back = acrossTheWire(new MarkIdReusedError('mark ID 3 was already used in log group 1 (highest so far: 4)', 5));
  t.true(back instanceof MarkIdReusedError);
  t.is((back as MarkIdReusedError).nextFree, 5);
  const corrupt = acrossTheWire(new WireCorruptError('body checksum mismatch', 4096));
  t.like(corrupt, {reason: 'body checksum mismatch', streamOffset: 4096});
  const notSaved = acrossTheWire(new FileNotSavedError('tables.json', Object.assign(new Error('ENOSPC: no space left on device, write'), {code: 'ENOSPC'})));
  t.like(notSaved, {code: 'FILE_NOT_SAVED', file: 'tables.json'});
});

test('a failed system call at the agent is IO_ERROR here; a bug there, or a code this side lacks, is REMOTE_INTERNAL keeping the agent\'s code', t => {
  const errno = Object.assign(new Error('EACCES: permission denied, open \'x.img\''), {code: 'EACCES', syscall: 'open'});
  const io = acrossTheWire(errno);
  t.true(io instanceof VolumeIoError);
  t.is(io.message, errno.message);
  const bug = acrossTheWire(new TypeError('x is undefined'));
  t.true(bug instanceof RemoteInternalError);
  t.like(bug, {code: 'REMOTE_INTERNAL', remoteCode: 'INTERNAL', exitCode: 1});
  t.true(bug.message.includes('TypeError: x is undefined'), 'the agent\'s stack travels in the message');
  const newer = rebuildError({code: 'SOMETHING_NEWER', message: 'a cause', hint: 'a hint'});
  t.like(newer, {code: 'REMOTE_INTERNAL', remoteCode: 'SOMETHING_NEWER', hint: 'a hint'});
});

test('long texts are cut so an ERROR always fits its frame; details that are not plain values, or not the class\'s fields, do not cross', t => {
  const long = new errors.InvalidArgumentError('\u0001'.repeat(MAX_ERROR_TEXT * 3), '\u0002'.repeat(MAX_ERROR_TEXT * 3));
  const body = errorBodyOf(long);
  t.is(body.message.length, MAX_ERROR_TEXT);
  t.is(body.hint!.length, MAX_ERROR_TEXT);
  t.notThrows(() => encodeFrame({type: 'error', id: 1, ack: 1, method: 1, error: body}));
  const odd = Object.assign(new MarkIdReusedError('m', 2), {extra: {nested: true}});
  t.deepEqual(errorBodyOf(odd).details, {nextFree: 2});
  const injected = rebuildError({code: 'MARK_ID_REUSED', message: 'm', details: {nextFree: 3, exitCode: 0, category: 'usage'}});
  t.like(injected, {nextFree: 3, exitCode: 4, category: 'conflict'});
});
