// A TLS link whose connection is cut mid-stream resumes its session (docs/WIRE.md §5):
// the primary, linked to `marklog agent --listen` through a TCP proxy the test can
// sever, writes through `marklog serve` with many writes in flight, and the proxy
// drops every connection. The link connects again, resumes, and the agent answers
// what it applied from what it kept and applies the rest once: every acknowledged
// write is on the R-VOL and the pair stays PAIR. In log mode the log holds each
// record exactly once. Over ssh (the agent dies with its connection) the requests
// in flight still fail as before.
import fs from 'node:fs';
import test from 'ava';
import {cli, cliJson} from '../helpers/cli.js';
import {listeningAgent} from '../helpers/agent-tls.js';
import {cutRelay} from '../helpers/cut-proxy.js';
import {PipelinedClient} from '../helpers/nbd-pipelined-client.js';
import {serve, stopServe} from '../helpers/serve.js';
import {imagePath} from '../helpers/sites.js';
import {makeCertificates} from '../helpers/tls-certs.js';
import {Rng} from '../helpers/fuzz.js';
import {sleep} from '../helpers/processes.js';
import {ok, unlinkedSites} from '../helpers/tls-sites.js';
import {loggingSites, markList} from '../helpers/logging.js';

const MiB = 1024 * 1024;
const SIZE = 16 * MiB;
const BLOCK = 4096;

test('a TLS connection cut mid-stream resumes its session: every acknowledged write is on the R-VOL and the pair stays PAIR', async t => {
  const {primary, remote} = unlinkedSites(t, '16M');
  const certs = makeCertificates(t);
  const agent = await listeningAgent(t, remote, certs);
  const proxy = await cutRelay(t, {host: '127.0.0.1', port: agent.port});
  ok(['site', 'link', '--site', primary, '--remote', `tls://127.0.0.1:${proxy.port}`, '--tls-cert', certs.client.cert, '--tls-key', certs.client.key, '--tls-ca', certs.client.ca]);
  ok(['pair', 'create', '--site', primary, '--mvol', '0', '--rvol', '0']);

  const served = await serve(t, primary, []);
  const host = await PipelinedClient.connect(served.port, '0');
  const model = Buffer.alloc(SIZE);
  const rng = new Rng(5);
  const writeBurst = async (count: number) => {
    const writes = Array.from({length: count}, () => {
      const offset = rng.int(SIZE / BLOCK) * BLOCK;
      const data = Buffer.alloc(BLOCK, rng.int(255) + 1);
      data.copy(model, offset);
      return host.write(offset, data);
    });
    await Promise.all(writes);
  };
  await writeBurst(64);

  let cuts = 0;
  let before = 0;
  let after = 0;
  const bursts = (async () => {
    for (let n = 0; n < 40; n++) await writeBurst(48);
  })();
  for (; cuts < 3; cuts++) {
    await sleep(120);
    const carried = await proxy.cut();
    if (cuts === 0) before = carried;
    after = carried;
  }
  await bursts;
  t.true(after > before, 'the link connected again after each cut');
  const pair = cliJson(['pair', 'display', '--site', primary]).pairs[0];
  t.like(pair, {state: 'PAIR', dirtyChunks: 0}, 'no write was given up on: the pair was never suspended');
  t.not(await stopServe(served), 'hung');
  t.true(fs.readFileSync(imagePath(primary, 0)).equals(model), 'the M-VOL holds every acknowledged write');
  t.true(fs.readFileSync(imagePath(remote, 0)).equals(model), 'and so does the R-VOL, without a resync');
});

test('log mode over a TLS connection cut mid-stream: every record and mark is in the remote\'s log exactly once and the pair is never suspended', async t => {
  const sites = loggingSites(t, {size: '1M'});
  const {primary, remote, host, group} = sites;
  const [member] = sites.members;
  const certs = makeCertificates(t);
  const agent = await listeningAgent(t, remote, certs);
  const proxy = await cutRelay(t, {host: '127.0.0.1', port: agent.port});
  ok(['site', 'link', '--site', primary, '--remote', `tls://127.0.0.1:${proxy.port}`, '--tls-cert', certs.client.cert, '--tls-key', certs.client.key, '--tls-ca', certs.client.ca]);
  const logging = cliJson(['pair', 'display', '--site', primary]).pairs[0].state;
  const served = await serve(t, primary, []);
  const client = await PipelinedClient.connect(served.port, String(member.mvol));
  const writes: Promise<unknown>[] = [];
  const cutter = (async () => {
    for (let i = 0; i < 3; i++) {
      await sleep(80);
      await proxy.cut();
    }
  })();
  for (let i = 0; i < 600; i++) {
    writes.push(client.write((i % 256) * BLOCK, Buffer.alloc(BLOCK, (i % 250) + 1)));
    if (i % 50 === 49) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
  await cutter;
  t.not(await stopServe(served), 'hung');
  t.is(cliJson(['pair', 'display', '--site', primary]).pairs[0].state, logging, 'the pair is as logging left it, not PSUE');
  const mark = host.mark('after-cuts');
  t.deepEqual(markList(remote, group).map(m => m.markId), [mark.markId]);
  // Every write is one record: 600 writes and the mark, each logged once, in order.
  t.is(mark.logId, 601, 'no record logged twice, none lost');
  const verify = cli(['verify', '--site', remote]);
  t.is(verify.code, 0, verify.stdout + verify.stderr);
});
