// A connection of the TLS listener that ends inside a frame was cut, not misused
// (docs/WIRE.md §5): the frame never arrived whole, so nothing of it was applied, and
// the session waits for its client to resume it and send that request again. Before,
// the agent took the cut for a protocol error and forgot the session, so the resume
// got a new one and the link's writes in flight failed (the pair fell to PSUE).
import fs from 'node:fs';
import test from 'ava';
import {encodeFrame} from '../../src/format/wire-frame.js';
import {WireMethod} from '../../src/format/wire-methods.js';
import {connectTls, listeningAgent, remoteSiteDir} from '../helpers/agent-tls.js';
import {imagePath, randomBytes} from '../helpers/sites.js';
import {makeCertificates} from '../helpers/tls-certs.js';
import {WireClient} from '../helpers/wire-client.js';

const MiB = 1024 * 1024;
const CLIENT = 'e6c8da65d963855a';

test('a connection ended half way through a request leaves its session held: the resume gets the same session at the last request applied, and the request sent again is applied once', async t => {
  const dir = remoteSiteDir(t, 4 * MiB);
  const certs = makeCertificates(t);
  const agent = await listeningAgent(t, dir, certs);
  const credentials = {cert: certs.client.cert, key: certs.client.key, ca: [certs.client.ca]};

  const first = new WireClient(await connectTls(agent.port, credentials));
  const welcome = await first.hello(CLIENT);
  await first.call('reserveRvol', {ldev: 0, claim: {pair: 1, primarySite: CLIENT, mvol: 0}, minCapacity: 4 * MiB});
  const written = randomBytes(64 * 1024);
  await first.call('writeRvol', {ldev: 0, offset: 0}, written);
  const cutShort = randomBytes(256 * 1024);
  const request3 = encodeFrame({type: 'request', id: 3, ack: 2, method: WireMethod.writeRvol, json: {ldev: 0, offset: 1 * MiB}, binary: cutShort});
  first.raw(request3.subarray(0, request3.length >> 1));
  first.endInput();
  await first.exited;
  t.false(first.frames.some(frame => frame.type === 'error'), 'no ERROR: a cut is not the client\'s fault');

  const second = new WireClient(await connectTls(agent.port, credentials));
  second.send({type: 'hello', ack: 2, hello: {protocol: {min: 1, max: 1}, session: welcome.session, client: CLIENT, site: ''}});
  const [resumed] = await second.frameCount(1);
  t.like(resumed, {type: 'welcome', ack: 2, welcome: {session: welcome.session}}, 'the same session, applied up to request 2');
  second.raw(request3);
  t.is((await second.answer(3)).type, 'response');
  const image = fs.readFileSync(imagePath(dir, 0));
  t.true(image.subarray(0, written.length).equals(written));
  t.true(image.subarray(MiB, MiB + cutShort.length).equals(cutShort), 'the request cut short is applied when sent again whole');
  t.notRegex(agent.stderr(), /ended inside a wire frame/);
});
