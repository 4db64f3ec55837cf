// No site lock is held while waiting on the network (issue 15, item 4). The remote is
// a TLS agent stopped with SIGSTOP, so serve's writes wait for answers that do not
// come. Meanwhile the primary's site lock is free (flock(1) takes it), and what
// another process does through it still falls after those writes: a one-shot write
// to the same block, or a mark, waits for them (their activity-log slots stay locked
// until they are answered) and reaches the remote after them. The same holds for the
// copy behind pair create: its runs in flight hold slots, not the lock.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {spawnSync} from 'node:child_process';
import test, {type ExecutionContext} from 'ava';
import {cli, cliJson, cliSpawn} from '../helpers/cli.js';
import {loggingSites, restore} from '../helpers/logging.js';
import type {ListeningAgent} from '../helpers/agent-tls.js';
import {PipelinedClient} from '../helpers/nbd-pipelined-client.js';
import {exited, sleep} from '../helpers/processes.js';
import {fileAppears} from '../helpers/hooks.js';
import {serve, stopServe, type Served} from '../helpers/serve.js';
import {imagePath, tempDir} from '../helpers/sites.js';
import {waitFor} from '../helpers/wait.js';
import {block, holds} from '../helpers/blocks.js';
import {linkedOverTls, ok, sitesOverTls} from '../helpers/tls-sites.js';

/** True when another process can take the site's lock this moment (flock(1), not marklog's own code). */
function lockIsFree(site: string): boolean {
  return spawnSync('flock', ['--nonblock', '--exclusive', path.join(site, 'lock'), 'true']).status === 0;
}

/** `marklog write` of `data` to block 0 of LDEV 0, in a process of its own. */
function oneShotWrite(primary: string, dir: string, data: Buffer): ReturnType<typeof exited> {
  const input = path.join(dir, `block-${data[0]!.toString(16)}.bin`);
  fs.writeFileSync(input, data);
  return exited(cliSpawn(['write', '--site', primary, '--vol', '0', '--offset', '0', '--file', input]));
}

interface Stalled {
  served: Served;
  host: PipelinedClient;
  /** The host's write of 0xb2 to block 0, sent while the agent is stopped: on the M-VOL, not answered. */
  pending: Promise<void>;
}

/** Two sites, LDEV 0 of each paired over TLS. */
async function pairedOverTls(t: ExecutionContext): Promise<{primary: string; remote: string; agent: ListeningAgent}> {
  const sites = await sitesOverTls(t, '1M');
  ok(['pair', 'create', '--site', sites.primary, '--mvol', '0', '--rvol', '0']);
  return sites;
}

/** serve with its link open, then the agent stopped and a write to block 0 waiting for its answer. */
async function stall(t: ExecutionContext, primary: string, agent: ListeningAgent, ldev: number): Promise<Stalled> {
  const served = await serve(t, primary);
  const host = await PipelinedClient.connect(served.port, String(ldev));
  // serve's link is open (a first write answered) before the agent stops: what follows is sending, not connecting.
  await host.write(0, block(0xa1));
  agent.child.kill('SIGSTOP');
  t.teardown(() => void agent.child.kill('SIGCONT'));
  let answered = false;
  const pending = host.write(0, block(0xb2)).then(() => void (answered = true));
  await waitFor(() => holds(imagePath(primary, ldev), 0, block(0xb2)), {what: 'the host write to reach the M-VOL while the remote answers nothing', timeoutMs: 5000});
  await sleep(100);
  if (answered) throw new Error('the write was answered while the remote was stopped');
  return {served, host, pending};
}

test('while serve waits for the remote to answer its writes, the primary\'s site lock is free: another process takes it at once', async t => {
  const {primary, remote, agent} = await pairedOverTls(t);
  const {served, pending} = await stall(t, primary, agent, 0);

  t.true(lockIsFree(primary), 'the site lock is free while the write waits on the network');
  agent.child.kill('SIGCONT');
  await pending;
  t.not(await stopServe(served), 'hung');
  t.true(fs.readFileSync(imagePath(remote, 0)).equals(fs.readFileSync(imagePath(primary, 0))), 'the R-VOL is the M-VOL');
});

test('Fig. 15 across processes: a one-shot write to a block whose serve write waits on the remote comes after it, at the M-VOL and at the R-VOL', async t => {
  const {primary, remote, agent} = await pairedOverTls(t);
  const dir = tempDir(t);
  const {served, pending} = await stall(t, primary, agent, 0);

  const oneShot = oneShotWrite(primary, dir, block(0xc3));
  await sleep(1000);
  t.true(holds(imagePath(primary, 0), 0, block(0xb2)), 'the one-shot write waits: the M-VOL still holds serve\'s unanswered write');
  agent.child.kill('SIGCONT');
  await pending;
  const wrote = await oneShot;
  t.is(wrote.code, 0, wrote.stderr);

  t.true(holds(imagePath(primary, 0), 0, block(0xc3)), 'the M-VOL keeps the one-shot write, the later one');
  t.true(holds(imagePath(remote, 0), 0, block(0xc3)), 'so does the R-VOL: it did not overtake serve\'s write on the way');
  t.like(cliJson(['pair', 'display', '--site', primary]).pairs[0], {state: 'PAIR', dirtyChunks: 0});
  t.not(await stopServe(served), 'hung');
  const verify = cli(['verify', '--site', primary, '--deep']);
  t.is(verify.code, 0, verify.stdout + verify.stderr);
});

test('Fig. 19 across processes: a mark issued while serve\'s append waits on the remote falls after that write, and restores it', async t => {
  const sites = loggingSites(t, {size: '1M'});
  const {primary, remote, group} = sites;
  const mvol = sites.members[0]!.mvol;
  const agent = await linkedOverTls(t, primary, remote);
  const {served, pending} = await stall(t, primary, agent, mvol);

  const marking = exited(cliSpawn(['mark', '--site', primary, '--group', String(group), '--app', 'during', '--json']));
  await sleep(1000);
  agent.child.kill('SIGCONT');
  await pending;
  const marked = await marking;
  t.is(marked.code, 0, marked.stderr);
  const mark = JSON.parse(marked.stdout) as {markId: number};

  const to = path.join(tempDir(t), 'at-mark.img');
  restore(remote, group, ['--mark', String(mark.markId), '--to', to]);
  t.true(holds(to, 0, block(0xb2)), 'the mark covers the write that was waiting when it was issued');
  t.not(await stopServe(served), 'hung');
  t.true(fs.readFileSync(to).equals(fs.readFileSync(imagePath(primary, mvol))), 'the restore at the mark is the M-VOL');
  const verify = cli(['verify', '--site', remote]);
  t.is(verify.code, 0, verify.stdout + verify.stderr);
});

test('Fig. 14 without the lock: while pair create waits for the remote to answer its first runs, the lock is free, and a host write to a chunk in flight waits for it and is carried: the pair ends PAIR with the R-VOL equal to the M-VOL', async t => {
  const {dir, primary, remote, agent} = await sitesOverTls(t, '4M', (primary, dir) => {
    const dense = path.join(dir, 'dense.bin');
    fs.writeFileSync(dense, crypto.randomBytes(4 * 1024 * 1024));
    ok(['write', '--site', primary, '--vol', '0', '--offset', '0', '--file', dense]);
  });

  const pauseFile = path.join(dir, 'paused-copy');
  const creating = exited(cliSpawn(['pair', 'create', '--site', primary, '--mvol', '0', '--rvol', '0', '--json'],
    {MARKLOG_TEST_PAUSE_AT: 'copy:runs-sent', MARKLOG_TEST_PAUSE_FILE: pauseFile}));
  await fileAppears(pauseFile, 'pair create sending its first runs');
  // The runs are handed to the link; the remote will answer none of them until it goes on.
  agent.child.kill('SIGSTOP');
  t.teardown(() => void agent.child.kill('SIGCONT'));
  fs.rmSync(pauseFile);
  await sleep(300);
  t.true(lockIsFree(primary), 'the site lock is free while the copy waits on the network');

  const oneShot = oneShotWrite(primary, dir, block(0xd4));
  await sleep(1000);
  t.false(holds(imagePath(primary, 0), 0, block(0xd4)), 'the host write waits for the copy\'s run over its chunk');
  agent.child.kill('SIGCONT');
  const [created, wrote] = await Promise.all([creating, oneShot]);
  t.is(created.code, 0, created.stderr);
  t.is(wrote.code, 0, wrote.stderr);

  t.like(cliJson(['pair', 'display', '--site', primary]).pairs[0], {state: 'PAIR', dirtyChunks: 0});
  t.true(holds(imagePath(remote, 0), 0, block(0xd4)), 'the host write reached the R-VOL after the copy\'s older bytes of its chunk');
  t.true(fs.readFileSync(imagePath(remote, 0)).equals(fs.readFileSync(imagePath(primary, 0))), 'the R-VOL is the M-VOL');
  const verify = cli(['verify', '--site', primary, '--deep']);
  t.is(verify.code, 0, verify.stdout + verify.stderr);
});
