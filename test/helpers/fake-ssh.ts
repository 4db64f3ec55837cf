// A stand-in for `ssh`, as MARKLOG_SSH for the tests of the ssh-style transport (issue
// 15, item 6(a): a child-process agent over pipes) on a machine with no sshd. The
// product builds exactly this argv (src/transport/ssh-connection.ts, sshCommandLine):
//   MARKLOG_SSH… -o BatchMode=yes [-p PORT] -- [user@]host 'REMOTE COMMAND LINE'
// This ignores every option and the host, and runs the remote command line with
// `sh -c`, its standard input, output and error being this process's own (the pipes
// the product made), so the agent runs as a child over pipes as it would behind ssh.
// Without `--` it skips ssh's options (those that take a value take the next word)
// and, as ssh does, joins the words after the host into one command line. It exits
// with the command's status, 255 when it could not run it or a signal ended it (as
// ssh does); a signal it receives is passed on to the command.
// Usage (see fake-ssh-env.ts): MARKLOG_SSH="node fake-ssh.js" or, to run it inside a
// remote machine, MARKLOG_SSH="nsenter -t PID -m -n --wd=DIR -- node fake-ssh.js".
import {spawn} from 'node:child_process';

/** ssh's options that take a value (ssh(1) SYNOPSIS). */
const WITH_VALUE = new Set('BbcDEeFIiJLlmOopQRSWw'.split(''));

function afterOptions(args: string[]): string[] {
  const dash = args.indexOf('--');
  if (dash >= 0) return args.slice(dash + 1);
  let at = 0;
  while (at < args.length && args[at].startsWith('-')) {
    const letters = args[at].slice(1);
    // A value-taking option's value is the rest of the word, or the next word if the option ends it.
    const valueLetter = [...letters].findIndex(letter => WITH_VALUE.has(letter));
    at += valueLetter === letters.length - 1 ? 2 : 1;
  }
  return args.slice(at);
}

const [host, ...words] = afterOptions(process.argv.slice(2));
if (host === undefined || words.length === 0) {
  process.stderr.write('fake-ssh: no host and remote command line (an interactive login is not faked)\n');
  process.exit(255);
}
const child = spawn('sh', ['-c', words.join(' ')], {stdio: 'inherit'});
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
child.on('error', error => {
  process.stderr.write(`fake-ssh: ${error.message}\n`);
  process.exit(255);
});
child.on('exit', code => process.exit(code ?? 255));
