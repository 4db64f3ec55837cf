// Three paths of resuming on the client's side (docs/WIRE.md §5), against a stand-in
// agent (test/helpers/stand-in-agent.ts) so each step is the test's to see: a link
// whose connection dropped while nothing was in flight stays quiet until its next call
// and then resumes the same session at its ack; a resume whose agent had applied
// hundreds of requests gets their kept answers, sends only the rest again, in order,
// and acknowledges what it got so the agent may let it go; and a connection lost in
// the moment between a resume's WELCOME and the resume taking it in is resumed again
// (before, the requests were sent on the dead connection and waited for the timeout).
import test from 'ava';
import {WireSession} from '../../src/transport/wire-session.js';
import {SESSION, standInConnection, type Stand} from '../helpers/stand-in-agent.js';
import {sleep} from '../helpers/processes.js';

const OPTIONS = {address: 'tls://osaka', client: 'e6c8da65d963855a', site: '', timeoutMs: 30_000, retries: 0};

test('a link whose connection dropped while idle connects again only at its next call, and resumes the same session at its ack', async t => {
  const first = standInConnection();
  const later: Stand[] = [];
  const reconnect = async () => {
    const stand = standInConnection();
    later.push(stand);
    return stand.connection;
  };
  const {session} = await WireSession.open(first.connection, {...OPTIONS, reconnect});
  await session.call('describeVolume', {ldev: 0});
  first.connection.input.destroy();
  await sleep(200);
  t.is(later.length, 0, 'no connection is made while nothing is asked');
  t.false(first.referenced, 'and the lost one keeps nothing alive');

  await session.call('describeVolume', {ldev: 1});
  t.is(later.length, 1);
  const [hello, request] = later[0].heard;
  t.like(hello, {type: 'hello', ack: 1, hello: {session: SESSION}}, 'the same session, acknowledging the answer it had');
  t.like(request, {type: 'request', id: 2, json: {ldev: 1}}, 'then the call, with the next id');
  session.end();
});

test('a resume the agent answers with 300 kept answers settles them, sends only the requests above its ack again in order, and acknowledges the answers by a PING', async t => {
  const first = standInConnection({answers: false});
  const second = standInConnection({applied: 300});
  const {session} = await WireSession.open(first.connection, {...OPTIONS, reconnect: async () => second.connection});
  const calls = Array.from({length: 400}, (_, i) => session.call('describeVolume', {ldev: i}));
  await sleep(50);
  first.connection.input.destroy();
  await Promise.all(calls);
  const requests = second.heard.filter(frame => frame.type === 'request').map(frame => (frame as {id: number}).id);
  t.deepEqual(requests, Array.from({length: 100}, (_, i) => 301 + i), 'the 100 requests the agent had not applied, once each, in order');
  const pings = second.heard.filter(frame => frame.type === 'ping');
  t.true(pings.some(ping => ping.ack >= 256), 'the kept answers are acknowledged without waiting for another request');
  session.end();
});

test('a connection lost just after the WELCOME of a resume, before the resume took it in, is resumed again: the request in flight is answered on the next connection', async t => {
  const stands = [standInConnection({lostAfterWelcome: true}), standInConnection()];
  const first = standInConnection({answers: false});
  const {session} = await WireSession.open(first.connection, {...OPTIONS, reconnect: async () => stands.shift()!.connection});
  const asked = session.call('describeVolume', {ldev: 0});
  first.connection.input.destroy();
  const outcome = await Promise.race([asked.then(() => 'answered'), sleep(5_000).then(() => 'no answer')]);
  t.is(outcome, 'answered');
  t.is(stands.length, 0, 'a third connection was made');
  session.end();
});
