// A session ended while it resumes (docs/WIRE.md §5) is over: the requests without an
// answer fail, and the connection still being made when it ended is cut as soon as it
// is made. Before, that connection said HELLO, got its WELCOME and stayed open and
// referenced, so `marklog serve` stopped by SIGTERM at that moment never exited.
// The agent here is a stand-in that welcomes every HELLO to the same session, so the
// moment of the end is the test's to choose.
import {PassThrough} from 'node:stream';
import test from 'ava';
import {RemoteUnreachableError} from '../../src/errors.js';
import {encodeFrame} from '../../src/format/wire-frame.js';
import {WireDecoder} from '../../src/format/wire-decoder.js';
import {WireSession, type WireConnection} from '../../src/transport/wire-session.js';

const SESSION = '5c1e0a97d3b24f68';

interface Stand {
  connection: WireConnection;
  destroyed: boolean;
  referenced: boolean;
  /** What the agent's end of it has heard. */
  heard: string[];
}

/** A connection to an agent that answers each HELLO with a WELCOME to SESSION and nothing else. */
function standInConnection(): Stand {
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
  output.on('data', (chunk: Buffer) => decoder.push(chunk, frame => {
    stand.heard.push(frame.type);
    if (frame.type === 'hello') {
      input.write(encodeFrame({type: 'welcome', ack: 0, welcome: {protocol: 1, session: SESSION, site: {id: 'a1b2c3d4e5f60718', name: 'osaka', role: 'remote'}}}));
    }
  }));
  return stand;
}

test('a session ended while it connects again to resume fails its unanswered request and cuts the connection it was making', async t => {
  const first = standInConnection();
  let letConnect!: () => void;
  const mayConnect = new Promise<void>(resolve => (letConnect = resolve));
  let resumeAsked!: () => void;
  const connecting = new Promise<void>(resolve => (resumeAsked = resolve));
  let second: Stand | undefined;
  const reconnect = async () => {
    resumeAsked();
    await mayConnect;
    second = standInConnection();
    return second.connection;
  };
  const {session} = await WireSession.open(first.connection, {address: 'tls://osaka', client: 'e6c8da65d963855a', site: '', timeoutMs: 30_000, reconnect, retries: 0});

  const asked = session.call('describeVolume', {ldev: 0}).then(() => 'answered', (error: unknown) => error);
  first.connection.input.destroy();
  await connecting;
  session.end();
  const outcome = await asked;
  t.true(outcome instanceof RemoteUnreachableError, String(outcome));

  letConnect();
  for (let turn = 0; turn < 20 && !second?.destroyed; turn++) await new Promise(resolve => setImmediate(resolve));
  t.truthy(second, 'the resume made its connection');
  t.true(second!.destroyed, 'the connection made after the end is cut');
  t.false(second!.referenced, 'and nothing of the session keeps the process alive');
  t.false(second!.heard.includes('request'), 'no request goes out on it');
});
