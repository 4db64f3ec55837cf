import path from 'node:path';
import test from 'ava';
import {tempDir} from '../helpers/sites.js';
import {parseHeartbeatPath} from '../../src/takeover/heartbeat-path.js';
import {serveHeartbeat} from '../../src/takeover/heartbeat-serve.js';
import {watchHeartbeat, type WatchEvent} from '../../src/takeover/heartbeat-watch.js';
import {MarklogError} from '../../src/errors.js';
import {waitFor} from '../helpers/wait.js';

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** Resolves once `events` holds a `state` event (the watcher pushes them as they happen). */
const stateSeen = (events: WatchEvent[], state: WatchEvent['state']) =>
  waitFor(() => events.some(e => e.state === state), {what: `the watcher's ${state} event`, seen: () => events.map(e => e.state).join(' ')});

/** `wanted` appears in `states` in this order, other states allowed in between. */
function inOrder(states: string[], wanted: string[]): boolean {
  let at = 0;
  for (const state of states) if (state === wanted[at]) at++;
  return at === wanted.length;
}

// The watchers probe every 200 ms: a probe gives up after one interval and a heartbeat
// file counts as fresh for three, so a busy machine does not make a live host look
// silent. Each step waits for the watcher's event, not for a fixed time.
test('Fig. 22: a host alive only on the alternate path is ALTERNATE_OK, not LOST; the main path coming back is RECOVERED', async t => {
  const dir = tempDir(t);
  const main = await serveHeartbeat({paths: [parseHeartbeatPath('127.0.0.1:0')], intervalMs: 50, name: 'prod'});
  const alternate = await serveHeartbeat({paths: [parseHeartbeatPath(path.join(dir, 'beat'))], intervalMs: 50, name: 'prod'});
  t.teardown(() => alternate.close());
  const mainAddress = main.listening[0];
  const events: WatchEvent[] = [];
  const controller = new AbortController();
  const watching = watchHeartbeat({
    main: parseHeartbeatPath(mainAddress), alternate: parseHeartbeatPath(path.join(dir, 'beat')), intervalMs: 200, misses: 2,
    onEvent: event => events.push(event), signal: controller.signal, maxTimeMs: 120_000,
  });
  await stateSeen(events, 'OK');
  await main.close();
  await stateSeen(events, 'ALTERNATE_OK');
  const port = Number(mainAddress.split(':')[1]);
  const back = await serveHeartbeat({paths: [parseHeartbeatPath(`127.0.0.1:${port}`)], intervalMs: 50, name: 'prod'});
  t.teardown(() => back.close());
  await stateSeen(events, 'RECOVERED');
  controller.abort();
  const {lost} = await watching;
  const states = events.map(e => e.state);
  t.false(lost, states.join(' '));
  t.false(states.includes('LOST'), states.join(' '));
  t.is(states[0], 'OK');
  t.true(inOrder(states, ['OK', 'MAIN_MISSED', 'TRYING_ALTERNATE', 'ALTERNATE_OK', 'RECOVERED']), states.join(' '));
});

test('Fig. 22: a stale heartbeat file counts as a miss, and silence on both paths is LOST once', async t => {
  const dir = tempDir(t);
  const file = path.join(dir, 'beat');
  const server = await serveHeartbeat({paths: [parseHeartbeatPath(file)], intervalMs: 50, name: 'prod'});
  const events: WatchEvent[] = [];
  const controller = new AbortController();
  let losses = 0;
  const watching = watchHeartbeat({
    main: parseHeartbeatPath(file), intervalMs: 200, misses: 3, maxTimeMs: 120_000, signal: controller.signal,
    onEvent: event => events.push(event), onLoss: async () => {
      losses++;
    },
  });
  await stateSeen(events, 'OK');
  // The file stays where it is, only older and older.
  await server.close();
  await stateSeen(events, 'LOST');
  // Once LOST, more silent probes add nothing: give the watcher five more intervals to prove it.
  await sleep(1000);
  controller.abort();
  const {lost} = await watching;
  const states = events.map(e => e.state);
  t.true(lost);
  t.is(losses, 1);
  t.is(states[0], 'OK');
  // After the server stopped, every probe missed: exactly this, whatever came before.
  t.deepEqual(states.slice(-4), ['MAIN_MISSED', 'MAIN_MISSED', 'TRYING_ALTERNATE', 'LOST'], states.join(' '));
  t.is(states.filter(s => s === 'LOST').length, 1, states.join(' '));
});

test('heartbeat paths: host:port, [v6]:port and file paths parse; anything else is a typed usage error', t => {
  t.like(parseHeartbeatPath('10.0.0.5:7410'), {kind: 'tcp', host: '10.0.0.5', port: 7410});
  t.like(parseHeartbeatPath('[::1]:7410'), {kind: 'tcp', host: '::1', port: 7410});
  t.like(parseHeartbeatPath('/shared/beat'), {kind: 'file', path: '/shared/beat'});
  for (const bad of ['nowhere', 'host:99999', 'relative/beat']) {
    const error = t.throws(() => parseHeartbeatPath(bad));
    t.true(error instanceof MarklogError);
    t.is((error as MarklogError).code, 'INVALID_ARGUMENT');
  }
});
