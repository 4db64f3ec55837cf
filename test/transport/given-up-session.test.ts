// Path failure over ssh:// (issue 15, item 5): writes the primary gave up on must
// never reach the R-VOL later. Over ssh the agent is a process of its own on the
// remote machine, started by sshd, and may hold in its input what sshd had handed it
// before the primary gave up on it and closed its ssh. If that agent went on with it
// after a resync, the R-VOL would take older bytes than the M-VOL's while the pair
// says PAIR with nothing dirty. Here the agent serving `marklog serve` is stopped
// (SIGSTOP) with a write on its way, the write is given up on after the link timeout,
// the block is written again and resynced over a new ssh session, and then the old
// agent is let go on: the R-VOL must still hold the newest bytes.
import path from 'node:path';
import {spawnSync} from 'node:child_process';
import test from 'ava';
import {BIN, cli, cliJson} from '../helpers/cli.js';
import {PipelinedClient} from '../helpers/nbd-pipelined-client.js';
import {sleep} from '../helpers/processes.js';
import {serve, stopServe} from '../helpers/serve.js';
import {imagePath, tempDir} from '../helpers/sites.js';
import {sshServer} from '../helpers/sshd.js';
import {waitFor} from '../helpers/wait.js';
import {block, holds} from '../helpers/blocks.js';

/** The pids of the agents serving a site now. */
function agentsOf(site: string): number[] {
  const found = spawnSync('pgrep', ['-f', `agent --site ${site}`], {encoding: 'utf8'});
  return found.stdout.split('\n').filter(Boolean).map(Number).filter(pid => pid !== process.pid);
}

test('Fig. 16 over ssh: writes serve gave up on, still waiting in a stalled agent\'s input, never reach the R-VOL after the resync that followed', async t => {
  const dir = tempDir(t);
  const primary = path.join(dir, 'tokyo');
  const remote = path.join(dir, 'osaka');
  const server = await sshServer(t);
  const options = server.ssh.slice(0, -1).filter((_, i, all) => !(all[i] === '-p' || all[i - 1] === '-p'));
  const env = {MARKLOG_SSH: options.join(' '), MARKLOG_REMOTE_COMMAND: `${process.execPath} ${BIN}`, MARKLOG_LINK_TIMEOUT_MS: '1500'};
  const ok = (args: string[]) => {
    const result = cli(args, {env: {...process.env, ...env}});
    if (result.code !== 0) throw new Error(`marklog ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return result.stdout;
  };
  ok(['site', 'init', primary, '--role', 'primary']);
  ok(['site', 'init', remote, '--role', 'remote']);
  ok(['volume', 'create', '--site', primary, '--size', '1M']);
  ok(['volume', 'create', '--site', remote, '--size', '1M']);
  ok(['site', 'link', '--site', primary, '--remote', `ssh://${server.user}@127.0.0.1:${server.port}${remote}`]);
  ok(['pair', 'create', '--site', primary, '--mvol', '0', '--rvol', '0']);
  await waitFor(() => agentsOf(remote).length === 0, {what: 'the agents of the commands so far to end', timeoutMs: 10_000});

  const served = await serve(t, primary, [], {env});
  const host = await PipelinedClient.connect(served.port, '0');
  await host.write(0, block(0xa1));
  const [agent] = agentsOf(remote);
  t.truthy(agent, 'serve\'s agent runs at the remote');
  process.kill(agent!, 'SIGSTOP');
  t.teardown(() => {
    try {
      process.kill(agent!, 'SIGKILL');
    } catch {
      // It ended.
    }
  });

  // Given up on after the link timeout: tracked, PSUE, answered.
  await host.write(0, block(0xb2));
  const broken = JSON.parse(ok(['pair', 'display', '--site', primary, '--json'])).pairs[0];
  t.is(broken.state, 'PSUE');
  await host.write(0, block(0xc3));
  ok(['pair', 'resync', '--site', primary, '--pair', String(broken.pair)]);
  t.true(holds(imagePath(remote, 0), 0, block(0xc3)), 'right after the resync the R-VOL holds the newest write');

  process.kill(agent!, 'SIGCONT');
  await waitFor(() => !agentsOf(remote).includes(agent!), {what: 'the stalled agent to end once it goes on', timeoutMs: 20_000});
  await sleep(200);
  t.true(holds(imagePath(remote, 0), 0, block(0xc3)), 'the write given up on did not land on the R-VOL after the resync');
  t.like(cliJson(['pair', 'display', '--site', primary]).pairs[0], {state: 'PAIR', dirtyChunks: 0});
  t.not(await stopServe(served), 'hung');
  const verify = cli(['verify', '--site', primary, '--deep'], {env: {...process.env, ...env}});
  t.is(verify.code, 0, verify.stdout + verify.stderr);
});
