// The other side of resuming (docs/WIRE.md §5): a TLS agent that restarted no longer
// holds the session, so the link's resume is answered with a new session, and
// exactly the requests sent without an answer fail as REMOTE_UNREACHABLE, naming their
// method and id; the link goes on with the new session.
import fs from 'node:fs';
import test from 'ava';
import {RemoteUnreachableError} from '../../src/errors.js';
import {tlsConnection} from '../../src/transport/tls-connection.js';
import {WireLink} from '../../src/transport/wire-link.js';
import {listeningAgent, remoteSiteDir} from '../helpers/agent-tls.js';
import {freePort} from '../helpers/ports.js';
import {randomBytes} from '../helpers/sites.js';
import {makeCertificates} from '../helpers/tls-certs.js';

const MiB = 1024 * 1024;
const PRIMARY = 'e6c8da65d963855a';

test('a TLS agent restarted mid-stream holds no session: the resume gets a new one, exactly the unanswered requests fail naming method and id, and the link goes on', async t => {
  const dir = remoteSiteDir(t, 4 * MiB);
  const certs = makeCertificates(t);
  const port = await freePort();
  const agent = await listeningAgent(t, dir, certs, `127.0.0.1:${port}`);
  const address = {kind: 'tls', host: '127.0.0.1', port} as const;
  const credentials = {cert: fs.readFileSync(certs.client.cert), key: fs.readFileSync(certs.client.key), ca: fs.readFileSync(certs.client.ca)};
  const link = await WireLink.open({address: `tls://127.0.0.1:${port}`, client: PRIMARY, site: '', retries: 12, resumable: true, connect: async () => tlsConnection(address, credentials)});
  t.teardown(() => link.close());
  await link.reserveRvol(0, {pair: 1, primarySite: PRIMARY, mvol: 0}, 4 * MiB);

  const outcomes = Array.from({length: 400}, (_, i) => link.writeRvol(0, (i % 1024) * 4096, randomBytes(4096)).then(() => 'done', (error: unknown) => error));
  agent.child.kill('SIGKILL');
  await agent.done;
  await listeningAgent(t, dir, certs, `127.0.0.1:${port}`);
  const settled = await Promise.all(outcomes);
  const failed = settled.filter(outcome => outcome !== 'done') as Error[];
  t.true(failed.length > 0, 'the kill came before the last answer');
  for (const error of failed) {
    t.true(error instanceof RemoteUnreachableError, String(error));
    t.regex(error.message, /no longer holds the session; request \d+ \(writeRvol\) has no answer/);
  }
  const firstFailed = settled.findIndex(outcome => outcome !== 'done');
  t.true(settled.slice(firstFailed).every(outcome => outcome !== 'done'), 'every request after the first unanswered one is unanswered too');
  t.is((await link.describeVolume(0))?.capacity, 4 * MiB, 'the link goes on, in the new session');
});
