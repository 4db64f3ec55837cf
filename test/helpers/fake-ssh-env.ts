// The environment that points the product's ssh-style transport at fake-ssh.ts
// instead of ssh: MARKLOG_SSH (split on white space, as ssh-connection.ts does) and
// MARKLOG_REMOTE_COMMAND, this checkout's marklog run by this node. Either the agent
// is a child of the primary's process over pipes, or, given a remote machine
// (remote-machine.ts), a child started inside it with nsenter, where its hidden
// directory is, still over the same pipes and with no sshd.
import {BIN} from './cli.js';
import {helperPath} from './wrapped-commands.js';

export const FAKE_SSH = helperPath('fake-ssh');

function words(parts: string[]): string {
  const spaced = parts.find(part => /\s/.test(part));
  if (spaced !== undefined) throw new Error(`MARKLOG_SSH is split on white space, and ${JSON.stringify(spaced)} has some`);
  return parts.join(' ');
}

/** MARKLOG_SSH and MARKLOG_REMOTE_COMMAND; `inside`: the prefix that enters a machine (its `wrap`). */
export function fakeSshEnv(inside: {wrap: string[]} | undefined = undefined): {MARKLOG_SSH: string; MARKLOG_REMOTE_COMMAND: string} {
  return {
    MARKLOG_SSH: words([...(inside?.wrap ?? []), process.execPath, FAKE_SSH]),
    MARKLOG_REMOTE_COMMAND: words([process.execPath, BIN]),
  };
}
