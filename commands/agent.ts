import {defineCommand} from '../src/cli/command-spec.js';
import {siteFlag} from '../src/cli/flags.js';
import {runAgent} from '../src/endpoint/agent.js';

export default defineCommand({
  summary: 'Serve this site to a linked site over standard input and output: the remote\'s end of the link (docs/WIRE.md).',
  description: 'Started by the other site, not by a person: `ssh HOST marklog agent --site DIR` (or a forced command in authorized_keys). Reads the HELLO, answers WELCOME, then serves requests in order of their ids through the same method table the local transport uses; many requests may be in flight. Only wire frames go to standard output; a cause goes to standard error. BYE or the end of input ends it with exit 0 once the requests in hand are answered; a damaged frame is answered with an ERROR and ends it with a non-zero exit. Sessions do not resume across connections yet (WIRE.md §5).',
  examples: [
    '# what the primary runs to reach its remote over SSH\nssh osaka <%= config.bin %> agent --site /srv/marklog/osaka',
    '# in the remote\'s ~/.ssh/authorized_keys, so the primary\'s key can run nothing else\ncommand="<%= config.bin %> agent --site /srv/marklog/osaka",restrict ssh-ed25519 AAAA... tokyo',
  ],
  jsonFlag: false,
  flags: {
    site: siteFlag,
  },
  async run({flags}) {
    await runAgent({site: flags.site, input: process.stdin, output: process.stdout, log: line => process.stderr.write(`${line}\n`)});
  },
});
