// The agent over SSH (docs/WIRE.md §2.1): `ssh [user@]host marklog agent --site DIR`,
// the agent's standard input and output being the link. SSH itself authenticates
// (keys, known_hosts, ~/.ssh/config); a forced command in the remote's
// authorized_keys may pin the agent whatever is asked. MARKLOG_SSH replaces the ssh
// command line (as GIT_SSH_COMMAND does for git), MARKLOG_REMOTE_COMMAND the remote's
// marklog. BatchMode keeps a cron job from waiting on a password prompt.
import {spawn} from 'node:child_process';
import type {Socket} from 'node:net';
import type {WireConnection} from './wire-session.js';
import type {RemoteAddress} from './remote-address.js';

type SshAddress = Extract<RemoteAddress, {kind: 'ssh'}>;

const STDERR_KEPT = 4096;

function words(text: string | undefined, fallback: string[]): string[] {
  const parts = text?.trim().split(/\s+/).filter(Boolean) ?? [];
  return parts.length > 0 ? parts : fallback;
}

/** One argument for the remote's shell, which ssh hands the command line to. */
function shellQuoted(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The command line run on this machine: ssh, its options, the host, then the agent's command for the remote shell. */
export function sshCommandLine(address: SshAddress, env: NodeJS.ProcessEnv = process.env): string[] {
  const ssh = words(env.MARKLOG_SSH, ['ssh']);
  const remote = [...words(env.MARKLOG_REMOTE_COMMAND, ['marklog']), 'agent', '--site', address.path];
  const target = address.user === undefined ? address.host : `${address.user}@${address.host}`;
  return [...ssh, '-o', 'BatchMode=yes', ...(address.port === undefined ? [] : ['-p', String(address.port)]), '--', target, remote.map(shellQuoted).join(' ')];
}

export function sshConnection(address: SshAddress, env: NodeJS.ProcessEnv = process.env): WireConnection {
  return commandConnection(sshCommandLine(address, env));
}

/** A link on the standard input and output of a command this process starts (ssh, or the agent itself). */
export function commandConnection(commandLine: readonly string[]): WireConnection & {pid: number | undefined} {
  const [command, ...args] = commandLine;
  const child = spawn(command, args, {stdio: ['pipe', 'pipe', 'pipe']});
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_KEPT);
  });
  child.on('error', error => {
    // ssh itself could not start: the streams end, and the session says why with this.
    stderr += `${command}: ${error.message}\n`;
    child.stdout.destroy();
  });
  // A write after ssh exited is the session's to report as the lost link.
  child.stdin.on('error', () => {});
  const pipes = [child.stdin, child.stdout, child.stderr] as unknown as Socket[];
  return {
    pid: child.pid,
    input: child.stdout,
    output: child.stdin,
    why: () => {
      const lines = stderr.split('\n').map(line => line.trim()).filter(Boolean);
      const code = child.exitCode !== null ? `ssh exited with ${child.exitCode}` : child.signalCode ? `ssh ended by ${child.signalCode}` : '';
      return [lines.slice(-2).join(' / '), code].filter(Boolean).join('; ');
    },
    destroy: () => {
      child.stdin.destroy();
      child.stdout.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
    ref: on => {
      for (const pipe of pipes) if (on) pipe.ref?.(); else pipe.unref?.();
      if (on) child.ref(); else child.unref();
    },
  };
}
