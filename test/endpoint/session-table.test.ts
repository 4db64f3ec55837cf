// The agent's session table (src/endpoint/session-table.ts): what a listening agent
// keeps of a session between connections, and when it lets it go.
import test from 'ava';
import {SessionTable, type SessionOwner} from '../../src/endpoint/session-table.js';
import {sleep} from '../helpers/processes.js';

const CLIENT = 'e6c8da65d963855a';
const OTHER = '7eadaf9de184b04e';
const owner: SessionOwner = {release: async () => {}};

function table(limits: Partial<SessionTable['limits']> = {}): SessionTable {
  return new SessionTable({keepMs: 60_000, maxAnswers: 100, maxBytes: 1 << 20, maxHeld: 8, ...limits});
}

const answer = (bytes: number) => [Buffer.alloc(bytes)];

test('answers are kept until the client acknowledges them, and a resume gets those above its ack, in order', t => {
  const sessions = table();
  const session = sessions.open(CLIENT);
  session.attach(owner);
  for (let id = 1; id <= 5; id++) session.applyAnswered(id, [Buffer.from([id])]);
  t.is(session.applied, 5);
  session.acknowledge(2);
  t.deepEqual(session.keeping, {answers: 3, bytes: 3});
  session.acknowledge(1);
  t.is(session.keeping.answers, 3, 'an ack never goes back');
  t.deepEqual(session.answersAfter(3)!.map(pieces => pieces[0][0]), [4, 5]);
  t.is(session.answersAfter(1), undefined, 'below an ack already given: those answers are gone');
  t.is(session.answersAfter(6), undefined, 'above what was applied: not this session');
  sessions.clear();
});

test('a session is found only by its own client, and not once forgotten', t => {
  const sessions = table();
  const session = sessions.open(CLIENT);
  t.not(session.id, '0000000000000000');
  t.is(sessions.find(session.id, CLIENT), session);
  t.is(sessions.find(session.id, OTHER), undefined, 'another client\'s HELLO gets a new session');
  t.is(sessions.find('0123456789abcdef', CLIENT), undefined);
  sessions.forget(session);
  t.is(sessions.find(session.id, CLIENT), undefined);
});

test('past its limits by count or by bytes a session is let go, and it keeps nothing more', t => {
  const sessions = table({maxAnswers: 3, maxBytes: 1000});
  const byCount = sessions.open(CLIENT);
  for (let id = 1; id <= 3; id++) byCount.applyAnswered(id, answer(10));
  t.true(byCount.held);
  byCount.applyAnswered(4, answer(10));
  t.false(byCount.held, 'a fourth unacknowledged answer is one too many');
  t.is(byCount.applied, 4, 'the connection goes on all the same');
  t.deepEqual(byCount.keeping, {answers: 0, bytes: 0});
  const byBytes = sessions.open(CLIENT);
  byBytes.applyAnswered(1, answer(600));
  byBytes.acknowledge(1);
  byBytes.applyAnswered(2, answer(600));
  t.true(byBytes.held, 'acknowledged answers do not count');
  byBytes.applyAnswered(3, answer(600));
  t.false(byBytes.held);
  t.is(sessions.find(byBytes.id, CLIENT), undefined);
});

test('a session without a connection is forgotten after keepMs unless resumed; attached, it waits as long as it likes', async t => {
  const sessions = table({keepMs: 80});
  const lost = sessions.open(CLIENT);
  const live = sessions.open(CLIENT);
  lost.attach(owner);
  live.attach(owner);
  lost.detach(owner);
  const resumed = sessions.open(CLIENT);
  resumed.attach(owner);
  resumed.detach(owner);
  await sleep(30);
  resumed.attach(owner);
  await sleep(150);
  t.false(lost.held, 'not resumed in time');
  t.true(live.held);
  t.true(resumed.held, 'resumed before its time was up');
  sessions.clear();
  t.is(sessions.size, 0);
});

test('at most maxHeld sessions wait without a connection: the one waiting longest goes first', t => {
  const sessions = table({maxHeld: 2});
  const waiting = [1, 2, 3].map(() => {
    const session = sessions.open(CLIENT);
    session.attach(owner);
    session.detach(owner);
    return session;
  });
  t.deepEqual(waiting.map(session => session.held), [false, true, true]);
  sessions.clear();
});

test('a session of a stdio agent is never held: nothing is kept for a resume', t => {
  const session = SessionTable.unheld(CLIENT);
  session.applyAnswered(1, answer(10));
  t.false(session.held);
  t.deepEqual(session.keeping, {answers: 0, bytes: 0});
});
