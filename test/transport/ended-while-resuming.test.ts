// A session ended while it resumes (docs/WIRE.md §5) is over: the requests without an
// answer fail, and the connection still being made when it ended is cut as soon as it
// is made. Before, that connection said HELLO, got its WELCOME and stayed open and
// referenced, so `marklog serve` stopped by SIGTERM at that moment never exited.
// The agent is a stand-in (test/helpers/stand-in-agent.ts), so the moment of the end is
// the test's to choose.
import test from 'ava';
import {RemoteUnreachableError} from '../../src/errors.js';
import {WireSession} from '../../src/transport/wire-session.js';
import {standInConnection, type Stand} from '../helpers/stand-in-agent.js';

test('a session ended while it connects again to resume fails its unanswered request and cuts the connection it was making', async t => {
  const first = standInConnection({answers: false});
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
  t.false(second!.heard.some(frame => frame.type === 'request'), 'no request goes out on it');
});
