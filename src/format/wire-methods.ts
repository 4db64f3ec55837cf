// The method codes of the wire protocol: docs/WIRE.md §7. A REQUEST names its method
// by a u16 code, so the table below is part of the protocol: a code, once given, keeps
// its method for ever. A new method takes the next unused code; a method that goes
// away leaves its code unused. Codes 1-21 follow the order of the SiteLink interface
// (src/site/link.ts) as it stood when the protocol began; 22-25 carry an image as a
// stream of extents, which receiveImage (13) cannot do over the wire (WIRE.md §7.3).
import {WireUnknownMethodError} from '../errors.js';

export const WireMethod = {
  registerPeer: 1,
  reserveRvol: 2,
  releaseRvol: 3,
  writeRvol: 4,
  writeRvolFrom: 5,
  zeroRvol: 6,
  readRvol: 7,
  prepareLogGroup: 8,
  appendToLog: 9,
  stopLogGroup: 10,
  recordLogGap: 11,
  listMarks: 12,
  receiveImage: 13,
  readDirtyRanges: 14,
  forgetDirtyRanges: 15,
  setDirection: 16,
  describeVolume: 17,
  findImage: 18,
  describePair: 19,
  flushRvol: 20,
  close: 21,
  receiveImageBegin: 22,
  receiveImageChunk: 23,
  receiveImageCommit: 24,
  receiveImageAbort: 25,
} as const;

/** The methods of the wire that are no SiteLink method: the steps of an image transfer. */
export const WIRE_ONLY_METHODS = ['receiveImageBegin', 'receiveImageChunk', 'receiveImageCommit', 'receiveImageAbort'] as const;

export type WireMethodName = keyof typeof WireMethod;

const NAMES = new Map<number, WireMethodName>(Object.entries(WireMethod).map(([name, code]) => [code, name as WireMethodName]));

/** The method of a code, or undefined for a code this marklog does not know (a newer peer's). */
export function methodName(code: number): WireMethodName | undefined {
  return NAMES.get(code);
}

/** The method of a request's code; an agent answers an unknown one with this error, and goes on. */
export function methodOfRequest(code: number): WireMethodName {
  const name = NAMES.get(code);
  if (name === undefined) throw new WireUnknownMethodError(code);
  return name;
}
