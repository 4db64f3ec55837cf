// The write pipeline keeps several runs on the link at once (issue 15, item 4): a run
// is sent as soon as the one before it is on the link, not once the remote has
// answered it. The remote here is a TLS agent stopped with SIGSTOP, so nothing is
// answered: with one run at a time, the second batch would not even reach the M-VOL.
// Once the agent goes on, every write lands in the order the host made them, on the
// R-VOL (PAIR) and in the log (log mode), and each is answered only then.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cli, cliJson} from '../helpers/cli.js';
import {loggingSites, restore} from '../helpers/logging.js';
import {PipelinedClient} from '../helpers/nbd-pipelined-client.js';
import {serve, stopServe} from '../helpers/serve.js';
import {imagePath, tempDir} from '../helpers/sites.js';
import {waitFor} from '../helpers/wait.js';
import {BLOCK, block, holds} from '../helpers/blocks.js';
import {linkedOverTls, ok, sitesOverTls} from '../helpers/tls-sites.js';

/** A write and whether the host has its answer yet. */
function tracked(write: Promise<void>): {answered: () => boolean; done: Promise<void>} {
  let answered = false;
  const done = write.then(() => void (answered = true));
  return {answered: () => answered, done};
}

/**
 * Three batches while the remote answers nothing: block 0 twice, then block 1. Each
 * reaches the M-VOL before the remote has answered the first.
 */
async function threeBatchesUnanswered(host: PipelinedClient, image: string): Promise<Promise<void>[]> {
  const writes = [];
  for (const [offset, data] of [[0, block(0xa1)], [0, block(0xb2)], [BLOCK, block(0xc3)]] as const) {
    writes.push(tracked(host.write(offset, data)));
    await waitFor(() => holds(image, offset, data), {what: `the write of ${data[0]!.toString(16)} at ${offset} to reach the M-VOL while the remote answers nothing`, timeoutMs: 5000});
  }
  for (const write of writes) if (write.answered()) throw new Error('a write was answered before the remote answered it');
  return writes.map(write => write.done);
}

test('Fig. 15 pipelined: writes of a batch sent while the batch before is unanswered reach the M-VOL at once, and the R-VOL in their order once the remote answers', async t => {
  const {primary, remote, agent} = await sitesOverTls(t, '1M');
  ok(['pair', 'create', '--site', primary, '--mvol', '0', '--rvol', '0']);
  const served = await serve(t, primary);
  const host = await PipelinedClient.connect(served.port, '0');

  // serve's link is open (a first write answered) before the agent stops: what follows is sending, not connecting.
  await host.write(2 * BLOCK, block(0x01));
  agent.child.kill('SIGSTOP');
  const answers = await threeBatchesUnanswered(host, imagePath(primary, 0));
  agent.child.kill('SIGCONT');
  await Promise.all(answers);

  t.true(holds(imagePath(remote, 0), 0, block(0xb2)), 'the later write to block 0 is the one the R-VOL keeps');
  t.true(holds(imagePath(remote, 0), BLOCK, block(0xc3)));
  const pair = cliJson(['pair', 'display', '--site', primary]).pairs[0];
  t.like(pair, {state: 'PAIR', dirtyChunks: 0}, 'nothing fell behind');
  t.not(await stopServe(served), 'hung');
  t.true(fs.readFileSync(imagePath(remote, 0)).equals(fs.readFileSync(imagePath(primary, 0))), 'the R-VOL is the M-VOL');
  const verify = cli(['verify', '--site', primary, '--deep']);
  t.is(verify.code, 0, verify.stdout + verify.stderr);
});

test('Fig. 16 pipelined: appends of runs in flight together get log IDs in the order written, so a mark after them restores the later write', async t => {
  const sites = loggingSites(t, {size: '1M'});
  const {primary, remote, group} = sites;
  const [member] = sites.members;
  const agent = await linkedOverTls(t, primary, remote);
  const served = await serve(t, primary);
  const host = await PipelinedClient.connect(served.port, String(member!.mvol));

  // serve's link is open (a first write answered) before the agent stops: what follows is sending, not connecting.
  await host.write(2 * BLOCK, block(0x01));
  agent.child.kill('SIGSTOP');
  const answers = await threeBatchesUnanswered(host, imagePath(primary, member!.mvol));
  agent.child.kill('SIGCONT');
  await Promise.all(answers);

  // A mark from another process while serve runs: it falls after every answered write.
  const mark = cliJson(['mark', '--site', primary, '--group', String(group), '--app', 'after-three']);
  const to = path.join(tempDir(t), 'at-mark.img');
  restore(remote, group, ['--mark', String(mark.markId), '--to', to]);
  t.not(await stopServe(served), 'hung');
  t.true(fs.readFileSync(to).equals(fs.readFileSync(imagePath(primary, member!.mvol))), 'the restore at the mark is the M-VOL, block 0 holding the later write');
  t.true(holds(to, 0, block(0xb2)));
  const verify = cli(['verify', '--site', remote]);
  t.is(verify.code, 0, verify.stdout + verify.stderr);
});
