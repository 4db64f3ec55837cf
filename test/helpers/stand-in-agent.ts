// A stand-in for an agent that keeps sessions, for the client's side of resuming
// (docs/WIRE.md §5): every HELLO is welcomed to the same session, every request is
// answered with an empty RESPONSE (or none), and what it heard is kept for the test to read.
import {PassThrough} from 'node:stream';
import {encodeFrame, type WireFrame} from '../../src/format/wire-frame.js';
import {WireDecoder} from '../../src/format/wire-decoder.js';
import {WireMethod} from '../../src/format/wire-methods.js';
import type {WireConnection} from '../../src/transport/wire-session.js';

export const SESSION = '5c1e0a97d3b24f68';

export interface Stand {
  connection: WireConnection;
  destroyed: boolean;
  referenced: boolean;
  /** What the agent's end of it has heard. */
  heard: WireFrame[];
}

export interface StandInOptions {
  /** Whether requests are answered (an empty RESPONSE each); default yes. */
  answers?: boolean;
  /** The last request the session applied, for a resuming HELLO: its WELCOME's ack, and the kept answers above the HELLO's ack follow it. Default: the HELLO's ack. */
  applied?: number;
  /** The connection is lost right after the WELCOME, in the same turn. */
  lostAfterWelcome?: boolean;
}

/** A connection to the stand-in. */
export function standInConnection({answers = true, applied, lostAfterWelcome = false}: StandInOptions = {}): Stand {
  const input = new PassThrough();
  const output = new PassThrough();
  const decoder = new WireDecoder({from: 'client'});
  const stand: Stand = {
    destroyed: false,
    referenced: false,
    heard: [],
    connection: {
      input,
      output,
      why: () => '',
      destroy: () => {
        stand.destroyed = true;
        input.destroy();
        output.destroy();
      },
      ref: on => (stand.referenced = on),
    },
  };
  const answer = (id: number, method: number) => input.write(encodeFrame({type: 'response', id, method, ack: id, json: {}}));
  output.on('data', (chunk: Buffer) => decoder.push(chunk, frame => {
    stand.heard.push(frame);
    if (frame.type === 'hello') {
      const upTo = applied ?? frame.ack;
      input.write(encodeFrame({type: 'welcome', ack: upTo, welcome: {protocol: 1, session: SESSION, site: {id: 'a1b2c3d4e5f60718', name: 'osaka', role: 'remote'}}}));
      if (lostAfterWelcome) {
        input.destroy();
        return;
      }
      // A moment later, as the network may bring them: the client has taken the WELCOME in by then.
      // It matches answers by id alone, so one method stands for the kept answers' own.
      const from = frame.ack + 1;
      setTimeout(() => {
        for (let id = from; id <= upTo; id++) answer(id, WireMethod.describeVolume);
      }, 10);
    } else if (frame.type === 'request' && answers) {
      answer(frame.id, frame.method);
    }
  }));
  return stand;
}
