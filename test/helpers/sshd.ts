// A remote machine reached over SSH, for the tests of a remote site behind `ssh host
// marklog agent`: OpenSSH's sshd started on 127.0.0.1 with throwaway host and client
// keys, its configuration, keys and pid file in the test's temporary directory. The
// tests then run the very `ssh` command an administrator would, pinned to that
// server's host key. Nothing outside the temporary directory is read or changed but
// the privilege separation directory sshd insists on.
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {accepts, freePort} from './ports.js';
import type {ExecutionContext} from 'ava';
import {tempDir} from './sites.js';
import {waitFor} from './wait.js';

export interface SshServer {
  port: number;
  /** `ssh` and the options that reach this server as the tests' user with the throwaway key, checking its host key; append the remote command. */
  ssh: string[];
  /** The user the key logs in as (the one running the tests). */
  user: string;
  child: ChildProcess;
}

function keygen(file: string): void {
  const made = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file], {encoding: 'utf8'});
  if (made.status !== 0) throw new Error(`ssh-keygen exited ${made.status}: ${made.stderr}`);
}

/** Starts sshd on a free loopback port; it is stopped at the test's end. */
export async function sshServer(t: ExecutionContext): Promise<SshServer> {
  const dir = tempDir(t);
  const port = await freePort();
  const hostKey = path.join(dir, 'host_key');
  const clientKey = path.join(dir, 'client_key');
  keygen(hostKey);
  keygen(clientKey);
  fs.copyFileSync(`${clientKey}.pub`, path.join(dir, 'authorized_keys'));
  fs.writeFileSync(path.join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${fs.readFileSync(`${hostKey}.pub`, 'utf8')}`);
  const config = path.join(dir, 'sshd_config');
  fs.writeFileSync(config, [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `PidFile ${path.join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`, 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
    'UsePAM no', 'StrictModes no', 'PermitRootLogin prohibit-password', 'LogLevel ERROR',
    // The agent's environment is the login's: the tests' node must be found on its PATH.
    'PermitUserEnvironment no', `SetEnv PATH=${process.env.PATH ?? '/usr/bin:/bin'}`,
  ].join('\n') + '\n');
  fs.mkdirSync('/run/sshd', {recursive: true, mode: 0o755});
  const checked = spawnSync('/usr/sbin/sshd', ['-t', '-f', config], {encoding: 'utf8'});
  if (checked.status !== 0) throw new Error(`sshd -t: ${checked.stderr}`);
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], {stdio: ['ignore', 'ignore', 'pipe']});
  let stderr = '';
  child.stderr!.on('data', chunk => {
    stderr += chunk;
  });
  t.teardown(() => {
    child.kill('SIGTERM');
  });
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`sshd exited ${child.exitCode}: ${stderr}`);
    return accepts(port);
  }, {what: 'sshd to listen'});
  const ssh = ['ssh', '-p', String(port), '-i', clientKey, '-o', `UserKnownHostsFile=${path.join(dir, 'known_hosts')}`,
    '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', `${os.userInfo().username}@127.0.0.1`];
  return {port, ssh, user: os.userInfo().username, child};
}
