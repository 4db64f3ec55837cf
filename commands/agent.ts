import {flag, defineCommand} from '../src/cli/command-spec.js';
import {siteFlag} from '../src/cli/flags.js';
import {runAgent} from '../src/endpoint/agent.js';
// The agent's site may pass writes on to its own pairs (a cascade): it needs the link transports.
import '../src/transport/transports.js';
import {agentMode, agentReadyJson, agentReadyText, listenUntilSignal} from '../src/endpoint/agent-run.js';

export default defineCommand({
  summary: 'Serve this site to a linked site: the remote\'s end of the link, on standard input and output or over TLS (docs/WIRE.md).',
  description: 'Started by the other site or by an administrator, not used by hand. Without --listen: `ssh HOST marklog agent --site DIR` (or a forced command in authorized_keys); only wire frames go to standard output. With --listen HOST:PORT and --tls-cert, --tls-key and --tls-ca: listens over TLS with mutual certificates; a client without a certificate the CA signed is refused in the TLS handshake, before any frame is read; there is no plaintext TCP agent. A primary runs one too when its remote reaches it back over TLS (`site link --peer-address tls://…`). Each connection is one session: it reads the HELLO, answers WELCOME, then serves requests in order of their ids through the same method table the local transport uses; many requests may be in flight, and several connections may be served at once. Prints one line when it listens (one JSON object with --json); SIGINT or SIGTERM stops listening, lets each session answer the requests in hand, and exits 0. On standard input and output, BYE or the end of input ends it with exit 0; a damaged frame is answered with an ERROR and ends it with a non-zero exit (over TLS, it ends that connection). Sessions do not resume across connections yet (WIRE.md §5).',
  examples: [
    '# what the primary runs to reach its remote over SSH\nssh osaka <%= config.bin %> agent --site /srv/marklog/osaka',
    '# in the remote\'s ~/.ssh/authorized_keys, so the primary\'s key can run nothing else\ncommand="<%= config.bin %> agent --site /srv/marklog/osaka",restrict ssh-ed25519 AAAA... tokyo',
    '# on the remote machine: listen over TLS for primaries whose certificate the CA signed (docs/OPERATING.md)\n<%= config.bin %> agent --site /srv/marklog/osaka --listen 0.0.0.0:7010 --tls-cert osaka-cert.pem --tls-key osaka-key.pem --tls-ca ca-cert.pem',
    '# any free port on loopback, the readiness line as JSON for a script\n<%= config.bin %> agent --site /srv/marklog/osaka --listen 127.0.0.1:0 --tls-cert osaka-cert.pem --tls-key osaka-key.pem --tls-ca ca-cert.pem --json',
  ],
  jsonFlag: false,
  flags: {
    site: siteFlag,
    listen: flag.string({summary: 'HOST:PORT to listen on over TLS (port 0: any free port); needs --tls-cert, --tls-key and --tls-ca. Without it: standard input and output.'}),
    'tls-cert': flag.string({summary: 'TLS: the agent\'s certificate (PEM).'}),
    'tls-key': flag.string({summary: 'TLS: the private key of --tls-cert (PEM, no passphrase).'}),
    'tls-ca': flag.string({summary: 'TLS: the CA (PEM) that signed the certificates of the primaries to accept.'}),
    json: flag.boolean({summary: 'With --listen: the readiness line as one JSON object.'}),
  },
  async run({flags}, out) {
    const mode = agentMode({listen: flags.listen, tlsCert: flags['tls-cert'], tlsKey: flags['tls-key'], tlsCa: flags['tls-ca'], json: flags.json});
    const log = (line: string) => process.stderr.write(`${line}\n`);
    if (mode.kind === 'stdio') {
      await runAgent({site: flags.site, input: process.stdin, output: process.stdout, log});
      return;
    }
    await listenUntilSignal(flags.site, mode, listener => {
      if (flags.json) process.stdout.write(`${JSON.stringify(agentReadyJson(listener))}\n`);
      else out.log(agentReadyText(listener));
    }, log);
  },
});
