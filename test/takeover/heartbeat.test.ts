import path from 'node:path';
import test from 'ava';
import {tempDir} from '../helpers/sites.js';
import {parseHeartbeatPath} from '../../src/takeover/heartbeat-path.js';
import {serveHeartbeat} from '../../src/takeover/heartbeat-serve.js';
import {watchHeartbeat, type WatchEvent} from '../../src/takeover/heartbeat-watch.js';
import {MarklogError} from '../../src/errors.js';

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

test('Fig. 22: a host alive only on the alternate path is ALTERNATE_OK, not LOST; the main path coming back is RECOVERED', async t => {
  const dir = tempDir(t);
  const main = await serveHeartbeat({paths: [parseHeartbeatPath('127.0.0.1:0')], intervalMs: 50, name: 'prod'});
  const alternate = await serveHeartbeat({paths: [parseHeartbeatPath(path.join(dir, 'beat'))], intervalMs: 50, name: 'prod'});
  t.teardown(() => alternate.close());
  const mainAddress = main.listening[0];
  const events: WatchEvent[] = [];
  const controller = new AbortController();
  const watching = watchHeartbeat({
    main: parseHeartbeatPath(mainAddress), alternate: parseHeartbeatPath(path.join(dir, 'beat')), intervalMs: 50, misses: 2,
    onEvent: event => events.push(event), signal: controller.signal, maxTimeMs: 20_000,
  });
  await sleep(300);
  await main.close();
  await sleep(600);
  const port = Number(mainAddress.split(':')[1]);
  const back = await serveHeartbeat({paths: [parseHeartbeatPath(`127.0.0.1:${port}`)], intervalMs: 50, name: 'prod'});
  t.teardown(() => back.close());
  await sleep(400);
  controller.abort();
  const {lost} = await watching;
  t.false(lost);
  t.deepEqual(events.map(e => e.state), ['OK', 'MAIN_MISSED', 'TRYING_ALTERNATE', 'ALTERNATE_OK', 'RECOVERED']);
});

test('Fig. 22: a stale heartbeat file counts as a miss, and silence on both paths is LOST once', async t => {
  const dir = tempDir(t);
  const file = path.join(dir, 'beat');
  const server = await serveHeartbeat({paths: [parseHeartbeatPath(file)], intervalMs: 40, name: 'prod'});
  const events: WatchEvent[] = [];
  let losses = 0;
  const watching = watchHeartbeat({
    main: parseHeartbeatPath(file), intervalMs: 40, misses: 3, maxTimeMs: 1500,
    onEvent: event => events.push(event), onLoss: async () => {
      losses++;
    },
  });
  await sleep(200);
  await server.close();
  const {lost} = await watching;
  t.true(lost);
  t.is(losses, 1);
  t.deepEqual(events.map(e => e.state), ['OK', 'MAIN_MISSED', 'MAIN_MISSED', 'TRYING_ALTERNATE', 'LOST']);
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
