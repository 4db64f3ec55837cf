// One fuzzing connection: frames chosen for the phase the model says the server is
// in, sent whole unit by unit (a request header is seen whole by the model first, so
// the guard can keep it off protected bytes; its bytes may still go out in two
// pieces), and the server's answers held to the model's expectations, sometimes
// after each frame, sometimes after many. It ends the way a client might: DISC or
// ABORT, a plain close, or a cut in the middle of a frame.
import {Rng} from './fuzz.js';
import {meet, type Violation} from './nbd-check.js';
import {greet} from './nbd-client.js';
import {flagsFrame, noise, optionFrame, requestFrame, type Frame} from './nbd-frames.js';
import {ServerModel, type Expectation, type ExportView} from './nbd-model.js';
import {CMD, MAGIC, OPT, Wire, option, request} from './nbd-wire.js';

export interface CaseResult {
  /** Frames the connection sent, at least in part. */
  frames: number;
  log: string[];
  violation?: Violation;
  /** For the run's coverage note: frames by phase, answers checked, how the connection ended. */
  tally: Record<string, number>;
}

export function addTally(into: Record<string, number>, from: Record<string, number>): void {
  for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + n;
}

const REQUEST_MAGIC = Buffer.from([0x25, 0x60, 0x95, 0x13]);
const OPTION_MAGIC = Buffer.alloc(8);
OPTION_MAGIC.writeBigUInt64BE(MAGIC.ihaveopt);

export async function fuzzConnection(port: number, rng: Rng, views: ExportView[], free: Map<ExportView, {from: number; to: number}>, ms: number): Promise<CaseResult> {
  const target = rng.chance(0.8) ? views[0] : views[1];
  const model = new ServerModel(views);
  const log: string[] = [];
  const tally: Record<string, number> = {};
  const count = (key: string) => {
    tally[key] = (tally[key] ?? 0) + 1;
  };
  const result: CaseResult = {frames: 0, log, tally};
  const wire = await Wire.connect(port);
  try {
    await greet(wire);
  } catch (error) {
    wire.destroy();
    return {...result, violation: {kind: 'reply', detail: `greeting: ${(error as Error).message}`}};
  }
  let pending: Buffer = Buffer.alloc(0);
  const owed: Expectation[] = [];
  const settle = async (): Promise<Violation | undefined> => {
    while (owed.length > 0) {
      const expected = owed.shift()!;
      const violation = await meet(wire, expected, ms);
      if (violation) return violation;
      count(expected.kind === 'reply' ? (expected.errors.includes(0) ? 'replies: success' : 'replies: error') : expected.kind === 'close' ? 'server closes' : 'option answers');
    }
    return undefined;
  };
  const pump = async (): Promise<void> => {
    for (;;) {
      const unit = model.next();
      if (!unit) {
        // The server has ended the connection here: sending on would only race its close.
        pending = Buffer.alloc(0);
        return;
      }
      const size = unit.kind === 'payload' ? Math.min(unit.size, pending.length) : unit.size;
      if (size === 0 || pending.length < size) return;
      const piece = Buffer.from(pending.subarray(0, size));
      pending = pending.subarray(size);
      if (unit.kind === 'header' && model.guard(piece)) log.push('(guarded: now points at the end of the export)');
      if (piece.length > 1 && rng.chance(0.05)) {
        const cut = rng.range(1, piece.length - 1);
        wire.send(piece.subarray(0, cut));
        await new Promise(resolve => setImmediate(resolve));
        wire.send(piece.subarray(cut));
      } else {
        wire.send(piece);
      }
      owed.push(...model.consume(piece));
    }
  };
  // Some connections are mostly well-formed, so that they get deep into transmission before the damage.
  const rate = rng.pick([0.2, 1, 1]);
  const next = (cookie: bigint): Frame => {
    const unit = model.next()!;
    const chosen = model.chosen;
    const phase = unit.kind === 'flags' ? 'flags' : chosen ? 'transmission' : 'options';
    const random = rng.chance((phase === 'flags' ? 0.04 : 0.05) * rate);
    count(`frames: ${phase}${random ? ', random' : ''}`);
    if (phase === 'flags') return random ? noise(rng) : flagsFrame(rng);
    if (!chosen) return random ? noise(rng, OPTION_MAGIC) : optionFrame(rng, target, rng.chance(0.35), rate);
    return random ? noise(rng, REQUEST_MAGIC) : requestFrame(rng, chosen, free.get(chosen)!, cookie, rate);
  };
  const planned = rng.range(1, 24);
  let cut = false;
  try {
    for (let i = 0; i < planned && !model.closed; i++) {
      const frame = next(BigInt(rng.u32()) << 16n | BigInt(i));
      result.frames++;
      if (i === planned - 1 && rng.chance(0.2)) {
        cut = true;
        frame.bytes = frame.bytes.subarray(0, rng.int(frame.bytes.length));
        frame.what += ` (cut after ${frame.bytes.length} bytes)`;
      }
      log.push(frame.what);
      pending = Buffer.concat([pending, frame.bytes]);
      await pump();
      if (rng.chance(0.35)) {
        const violation = await settle();
        if (violation) return {...result, violation};
      }
    }
    if (!model.closed && (cut || pending.length > 0 || model.inPayload || rng.chance(0.15))) {
      // Gone in the middle of a frame, or with answers owed: nothing is left to check on this connection.
      wire.send(pending);
      if (rng.chance(0.5)) await new Promise(resolve => setImmediate(resolve));
      log.push('(abrupt disconnect)');
      count(model.inPayload || pending.length > 0 ? 'ended: cut mid-frame' : 'ended: gone with answers owed');
      return result;
    }
    if (model.closed) count('ended: by the server');
    else if (rng.chance(0.75)) {
      log.push(model.chosen ? 'DISC' : 'ABORT');
      count(model.chosen ? 'ended: DISC' : 'ended: ABORT');
      pending = model.chosen ? request(CMD.disc) : option(OPT.abort);
      await pump();
    } else {
      count('ended: plain close');
    }
    const violation = await settle();
    return violation ? {...result, violation} : result;
  } finally {
    wire.destroy();
  }
}
