// Holding the server to what the model says it owes: reads the server's bytes for
// one expectation and says what was wrong with them, if anything. Two kinds of
// wrong: an illegal reply (a bad magic, a cookie or option not echoed, an answer or
// error number the protocol does not allow there) and a connection that ended, or
// did not end, where it must not (including no answer at all within the deadline).
import type {Expectation, ExportView} from './nbd-model.js';
import {INFO, MAGIC, REP, TX_FLAG, Wire, WireEnded, WireTimeout} from './nbd-wire.js';

export type Violation = {kind: 'reply' | 'ending'; detail: string};
type ExpectationOf<K extends Expectation['kind']> = Extract<Expectation, {kind: K}>;

const FINAL_ERRORS: Record<string, number> = {unsup: REP.errUnsup, invalid: REP.errInvalid, unknown: REP.errUnknown};

function illegal(detail: string): Violation {
  return {kind: 'reply', detail};
}

/** undefined when the server did exactly what `expected` allows. */
export async function meet(wire: Wire, expected: Expectation, ms: number): Promise<Violation | undefined> {
  try {
    switch (expected.kind) {
      case 'option': return await optionAnswer(wire, expected, ms);
      case 'exportName': return await exportNameAnswer(wire, expected, ms);
      case 'reply': return await simpleReply(wire, expected, ms);
      case 'close': {
        const how = await wire.ending(ms);
        if (how === 'eof') return undefined;
        return {kind: 'ending', detail: how === 'data' ? `the server sent more bytes where it must close (${expected.what})` : `the server left the connection open where it must close (${expected.what})`};
      }
    }
  } catch (error) {
    if (error instanceof WireEnded) return {kind: 'ending', detail: `the server closed the connection instead of answering ${expected.what} (${error.message})`};
    if (error instanceof WireTimeout) return {kind: 'ending', detail: `no answer to ${expected.what}: ${error.message}`};
    throw error;
  }
}

async function optionAnswer(wire: Wire, expected: ExpectationOf<'option'>, ms: number): Promise<Violation | undefined> {
  const listed: string[] = [];
  let sawExport = false;
  for (;;) {
    const head = await wire.take(20, ms);
    if (head.readBigUInt64BE(0) !== MAGIC.optionReply) return illegal(`option reply magic 0x${head.toString('hex', 0, 8)} for ${expected.what}`);
    if (head.readUInt32BE(8) !== expected.option) return illegal(`option reply names option ${head.readUInt32BE(8)} for ${expected.what}`);
    const type = head.readUInt32BE(12);
    const length = head.readUInt32BE(16);
    if (length > 1024 * 1024) return illegal(`option reply of ${length} bytes for ${expected.what}`);
    const data = await wire.take(length, ms);
    const named = `reply type 0x${type.toString(16)} to ${expected.what} (expected ${expected.answer})`;
    if (type >= 0x80000000) return type === FINAL_ERRORS[expected.answer] ? undefined : illegal(named);
    if (type === REP.ack) {
      if (expected.answer === 'ack') return undefined;
      if (expected.answer === 'info') return sawExport ? undefined : illegal(`ACK without INFO_EXPORT for ${expected.what}`);
      if (expected.answer === 'list') return listAnswer(listed, expected.exports!, expected.what);
      return illegal(named);
    }
    if (type === REP.server && expected.answer === 'list') {
      const nameLength = data.length >= 4 ? data.readUInt32BE(0) : Infinity;
      if (4 + nameLength > data.length) return illegal(`REP_SERVER whose name runs past its data, for ${expected.what}`);
      listed.push(data.toString('utf8', 4, 4 + nameLength));
      continue;
    }
    if (type === REP.info && expected.answer === 'info') {
      const wrong = infoWrong(data, expected.export!);
      if (wrong) return illegal(`${wrong}, for ${expected.what}`);
      sawExport ||= data.readUInt16BE(0) === INFO.export;
      continue;
    }
    return illegal(named);
  }
}

/** Every export once, by one of its names, and nothing else. */
function listAnswer(listed: string[], views: ExportView[], what: string): Violation | undefined {
  const once = views.every(v => listed.filter(name => v.names.includes(name)).length === 1);
  return once && listed.length === views.length ? undefined : illegal(`LIST named ${JSON.stringify(listed)} for ${what}`);
}

/** What is wrong with one REP_INFO payload, if anything; kinds a client does not know are its to ignore. */
function infoWrong(data: Buffer, view: ExportView): string | undefined {
  if (data.length < 2) return `REP_INFO of ${data.length} bytes`;
  const type = data.readUInt16BE(0);
  if (type === INFO.export) {
    if (data.length !== 12) return `INFO_EXPORT of ${data.length} bytes`;
    if (data.readBigUInt64BE(2) !== BigInt(view.capacity)) return `INFO_EXPORT size ${data.readBigUInt64BE(2)}, the export has ${view.capacity}`;
    const flags = data.readUInt16BE(10);
    if (!(flags & TX_FLAG.hasFlags) || flags & TX_FLAG.readOnly) return `INFO_EXPORT flags 0x${flags.toString(16)}`;
  }
  if (type === INFO.blockSize) {
    if (data.length !== 14) return `INFO_BLOCK_SIZE of ${data.length} bytes`;
    const [min, preferred, max] = [data.readUInt32BE(2), data.readUInt32BE(6), data.readUInt32BE(10)];
    const power = (n: number) => n > 0 && (n & (n - 1)) === 0;
    if (!power(min) || min > 65536 || !power(preferred) || preferred < Math.max(min, 512) || max % min !== 0) return `INFO_BLOCK_SIZE ${min}/${preferred}/${max}`;
  }
  return undefined;
}

async function exportNameAnswer(wire: Wire, expected: ExpectationOf<'exportName'>, ms: number): Promise<Violation | undefined> {
  const answer = await wire.take(expected.noZeroes ? 10 : 134, ms);
  if (answer.readBigUInt64BE(0) !== BigInt(expected.export.capacity)) return illegal(`EXPORT_NAME answered size ${answer.readBigUInt64BE(0)}`);
  if (!(answer.readUInt16BE(8) & TX_FLAG.hasFlags)) return illegal(`EXPORT_NAME answered flags 0x${answer.readUInt16BE(8).toString(16)}`);
  if (answer.subarray(10).some(b => b !== 0)) return illegal('EXPORT_NAME padding is not zeros');
  return undefined;
}

async function simpleReply(wire: Wire, expected: ExpectationOf<'reply'>, ms: number): Promise<Violation | undefined> {
  const head = await wire.take(16, ms);
  if (head.readUInt32BE(0) !== MAGIC.simpleReply) return illegal(`reply magic 0x${head.toString('hex', 0, 4)} to ${expected.what}`);
  if (!head.subarray(8).equals(expected.cookie)) return illegal(`reply cookie ${head.toString('hex', 8)} to ${expected.what}, sent ${expected.cookie.toString('hex')}`);
  const error = head.readUInt32BE(4);
  if (!expected.errors.includes(error)) return illegal(`error ${error} to ${expected.what}, allowed ${expected.errors.join(' or ')}`);
  if (error !== 0 || expected.readLength === 0) return undefined;
  const data = await wire.take(expected.readLength, ms);
  if (expected.expected && !data.equals(expected.expected)) return illegal(`READ returned other bytes than the export holds (${expected.what})`);
  return undefined;
}
