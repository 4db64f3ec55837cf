// Path failure as the patent describes it (issue 15, item 5), with the remote really
// behind the wire: a primary linked over mutual TLS to `marklog agent --listen`, a
// host writing through `marklog serve`, and the agent SIGKILLed mid-stream. Every
// write the host had acknowledged is on the M-VOL; those the R-VOL may have missed
// are set in the bitmap and the pair is PSUE; the link connects again on its own once
// the agent is back, and `pair resync` makes M-VOL and R-VOL identical.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cli, cliJson} from '../helpers/cli.js';
import {loggingSites, markList, restore} from '../helpers/logging.js';
import {listeningAgent} from '../helpers/agent-tls.js';
import {PipelinedClient} from '../helpers/nbd-pipelined-client.js';
import {freePort} from '../helpers/ports.js';
import {serve, stopServe} from '../helpers/serve.js';
import {imagePath, tempDir} from '../helpers/sites.js';
import {makeCertificates} from '../helpers/tls-certs.js';
import {Rng} from '../helpers/fuzz.js';
import {sleep} from '../helpers/processes.js';

const MiB = 1024 * 1024;
const SIZE = 16 * MiB;
const BLOCK = 4096;

function ok(args: string[]): void {
  const result = cli(args);
  if (result.code !== 0) throw new Error(`marklog ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
}

test('Fig. 15 over TLS, the agent SIGKILLed mid-stream: every acknowledged host write is on the M-VOL, the pair is PSUE, the link reconnects by itself and pair resync makes the R-VOL identical', async t => {
  const dir = tempDir(t);
  const primary = path.join(dir, 'tokyo');
  const remote = path.join(dir, 'osaka');
  const certs = makeCertificates(t);
  ok(['site', 'init', primary, '--role', 'primary']);
  ok(['site', 'init', remote, '--role', 'remote']);
  ok(['volume', 'create', '--site', primary, '--size', '16M']);
  ok(['volume', 'create', '--site', remote, '--size', '16M']);
  const port = await freePort();
  let agent = await listeningAgent(t, remote, certs, `127.0.0.1:${port}`);
  ok(['site', 'link', '--site', primary, '--remote', `tls://127.0.0.1:${port}`, '--tls-cert', certs.client.cert, '--tls-key', certs.client.key, '--tls-ca', certs.client.ca]);
  const tables = JSON.parse(fs.readFileSync(path.join(primary, 'tables.json'), 'utf8'));
  t.deepEqual(tables.link.tls, {cert: certs.client.cert, key: certs.client.key, ca: certs.client.ca}, 'the link row keeps the TLS files');
  ok(['pair', 'create', '--site', primary, '--mvol', '0', '--rvol', '0']);

  const served = await serve(t, primary, [], {env: {MARKLOG_LINK_RETRIES: '0'}});
  const host = await PipelinedClient.connect(served.port, '0');
  const model = Buffer.alloc(SIZE);
  const rng = new Rng(15);
  let acknowledged = 0;
  const writeBurst = async (count: number) => {
    const writes = Array.from({length: count}, () => {
      const offset = rng.int(SIZE / BLOCK) * BLOCK;
      const data = Buffer.alloc(BLOCK, rng.int(255) + 1);
      return host.write(offset, data).then(() => ({offset, data}));
    });
    // The host sees its writes answered in any order; each one answered is kept in the model, in submission order per block.
    for (const {offset, data} of await Promise.all(writes)) {
      data.copy(model, offset);
      acknowledged++;
    }
  };
  await writeBurst(64);
  t.is(cliJson(['pair', 'display', '--site', primary]).pairs[0].state, 'PAIR', 'the writes so far replicated');

  // The agent dies while bursts are in flight.
  // However fast the bursts go, some are in flight when it dies and some come after.
  let killed = false;
  const bursts = (async () => {
    for (let after = 0; after < 3;) {
      await writeBurst(32);
      if (killed) after++;
    }
  })();
  await sleep(150);
  agent.child.kill('SIGKILL');
  killed = true;
  await bursts;
  const afterKill = cliJson(['pair', 'display', '--site', primary]).pairs[0];
  t.is(afterKill.state, 'PSUE', 'the pair is suspended by the error');
  t.true(afterKill.dirtyChunks > 0, 'the writes the R-VOL may have missed are tracked');
  t.true(fs.readFileSync(imagePath(primary, 0)).equals(model), `all ${acknowledged} acknowledged writes are on the M-VOL`);

  // Writes go on while the remote is away (tracked), then the agent comes back on the same port.
  await writeBurst(64);
  agent = await listeningAgent(t, remote, certs, `127.0.0.1:${port}`);
  const resync = cliJson(['pair', 'resync', '--site', primary, '--pair', '1']);
  t.is(resync.state, 'PAIR', JSON.stringify(resync));
  // serve's own link connects again at its next write: the pair replicates again.
  await writeBurst(64);
  t.is(cliJson(['pair', 'display', '--site', primary]).pairs[0].state, 'PAIR');
  const stopped = await stopServe(served);
  t.not(stopped, 'hung');

  t.true(fs.readFileSync(imagePath(primary, 0)).equals(model), 'the M-VOL holds every acknowledged write');
  t.true(fs.readFileSync(imagePath(remote, 0)).equals(model), 'and the R-VOL is identical to it');
  const verifyPrimary = cli(['verify', '--site', primary, '--deep']);
  t.is(verifyPrimary.code, 0, verifyPrimary.stdout + verifyPrimary.stderr);
  const verifyRemote = cli(['verify', '--site', remote]);
  t.is(verifyRemote.code, 0, verifyRemote.stdout + verifyRemote.stderr);
});

test('log mode over TLS (Fig. 16): marks before the agent died restore exactly at the remote, a mark after the lost write is refused (its pair is PSUE by REMOTE_UNREACHABLE), and the remote-side commands never need the primary', async t => {
  const sites = loggingSites(t, {size: '1M'});
  const {primary, remote, host, group} = sites;
  const [member] = sites.members;
  const certs = makeCertificates(t);
  const port = await freePort();
  let agent = await listeningAgent(t, remote, certs, `127.0.0.1:${port}`);
  // The same remote, now reached over the wire: linking again to the same site only changes the address.
  ok(['site', 'link', '--site', primary, '--remote', `tls://127.0.0.1:${port}`, '--tls-cert', certs.client.cert, '--tls-key', certs.client.key, '--tls-ca', certs.client.ca]);

  host.writeRandom(member.mvol, 0, 64 * 1024);
  const first = host.mark('before-failure');
  host.writeRandom(member.mvol, 128 * 1024, 4096);
  const second = host.mark('still-before');
  t.deepEqual(markList(remote, group).map(mark => mark.markId), [first.markId, second.markId], 'both marks are in the remote\'s log');

  agent.child.kill('SIGKILL');
  await agent.done;
  host.write(member.mvol, 256 * 1024, Buffer.alloc(8192, 7));
  t.is(cliJson(['pair', 'display', '--site', primary]).pairs[0].state, 'PSUE', 'the write that found no log suspended the pair');

  agent = await listeningAgent(t, remote, certs, `127.0.0.1:${port}`);
  const refused = cli(['mark', '--site', primary, '--group', String(group), '--app', 'after-gap']);
  t.not(refused.code, 0);
  t.regex(refused.stderr, /PSUE \(REMOTE_UNREACHABLE\): its writes are no longer logged/, 'a mark after writes the log never got would not be a consistent point');
  t.regex(refused.stderr, /^marklog: [^\n]+\n/, 'one line');

  // At the remote, against its own directory only (the agent aside): restores at the marks are exact.
  const restoreDir = tempDir(t);
  for (const mark of [first, second]) {
    const to = path.join(restoreDir, `mark-${mark.markId}.img`);
    restore(remote, group, ['--mark', String(mark.markId), '--to', to]);
    t.true(fs.readFileSync(to).equals(host.atMark(mark.markId, member.mvol)), `mark ${mark.markId} restores exactly`);
  }
  // Both sites know of the write the log never got, and say how to start a new base, at the primary.
  const verifyRemote = cli(['verify', '--site', remote]);
  t.is(verifyRemote.code, 9, verifyRemote.stdout + verifyRemote.stderr);
  t.regex(verifyRemote.stdout, /\[log-gap\] log group 1: a write of pair 1 .* never reached the log \(REMOTE_UNREACHABLE\)/);
  t.regex(verifyRemote.stdout, /`marklog log stop --site PRIMARY --group 1`/, 'the remote cannot name the primary\'s directory, so it leaves it for the operator');
  t.notRegex(verifyRemote.stdout, /--site ''/);
  t.regex(verifyRemote.stdout, /^1 finding\(s\)/m, 'and nothing else is wrong');
  const verifyPrimary = cli(['verify', '--site', primary]);
  t.is(verifyPrimary.code, 9, verifyPrimary.stdout + verifyPrimary.stderr);
  t.regex(verifyPrimary.stdout, /^1 finding\(s\)/m, verifyPrimary.stdout);
  t.regex(verifyPrimary.stdout, /\[log-gap\]/);
});
