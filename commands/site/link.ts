import {flag, defineCommand} from '../../src/cli/command-spec.js';
import {siteFlag} from '../../src/cli/flags.js';
import {InvalidArgumentError} from '../../src/errors.js';
import {linkSites} from '../../src/site/site-admin.js';
import {parseRemoteAddress} from '../../src/transport/remote-address.js';
import type {LinkRow} from '../../src/site/tables.js';

export default defineCommand({
  summary: 'Link a primary site to the remote site it replicates to.',
  description: 'The remote is a directory on this machine, ssh://[user@]host[:port]/path (the agent is started over SSH with `marklog agent --site path`; SSH\'s keys and config apply), or tls://host:port (an agent listening with --listen; give this site\'s certificate, its key and the CA). --peer-address says how the remote reaches this site back (a restore onto the M-VOLs, writes after a failback): ssh://, or tls:// to an agent listening here, with the remote\'s own certificate, key and CA as --peer-tls-* (absolute paths on the remote\'s machine; the remote checks it can read them before it records them). The address, and the TLS files\' absolute paths, are kept in the link row; every later command reaches the remote through them. See docs/OPERATING.md §3.',
  examples: [
    '# replicate tokyo to osaka on this machine\n<%= config.bin %> site link --site /srv/marklog/tokyo --remote /srv/marklog/osaka',
    '# the remote on another machine, over SSH\n<%= config.bin %> site link --site /srv/marklog/tokyo --remote ssh://marklog@osaka.example/srv/marklog/osaka',
    '# the remote on another machine, over mutual TLS\n<%= config.bin %> site link --site /srv/marklog/tokyo --remote tls://osaka.example:7010 --tls-cert tokyo-cert.pem --tls-key tokyo-key.pem --tls-ca ca-cert.pem',
    '# both ways over mutual TLS: the remote reaches this site\'s agent back with its own files (paths on the remote\'s machine)\n<%= config.bin %> site link --site /srv/marklog/tokyo --remote tls://osaka.example:7010 --tls-cert tokyo-cert.pem --tls-key tokyo-key.pem --tls-ca ca-cert.pem --peer-address tls://tokyo.example:7010 --peer-tls-cert /etc/marklog/osaka-client-cert.pem --peer-tls-key /etc/marklog/osaka-client-key.pem --peer-tls-ca /etc/marklog/ca-cert.pem',
  ],
  flags: {
    site: siteFlag,
    remote: flag.string({summary: 'The remote site: a directory, ssh://[user@]host[:port]/path or tls://host:port.', required: true}),
    'tls-cert': flag.string({summary: 'For tls://: this site\'s certificate (PEM).'}),
    'tls-key': flag.string({summary: 'For tls://: the private key of --tls-cert (PEM, no passphrase).'}),
    'tls-ca': flag.string({summary: 'For tls://: the CA (PEM) the agent\'s certificate must chain to.'}),
    'peer-address': flag.string({summary: 'How the remote reaches this site back (ssh://[user@]host[:port]/path or tls://host:port), for a link over the wire; a directory link needs none.'}),
    'peer-tls-cert': flag.string({summary: 'For a tls:// --peer-address: the remote\'s certificate, a path on the remote\'s machine (PEM).'}),
    'peer-tls-key': flag.string({summary: 'For a tls:// --peer-address: the private key of --peer-tls-cert, a path on the remote\'s machine (PEM, no passphrase).'}),
    'peer-tls-ca': flag.string({summary: 'For a tls:// --peer-address: the CA (PEM) this site\'s agent certificate must chain to, a path on the remote\'s machine.'}),
  },
  async run({flags}, out): Promise<LinkRow> {
    const files = [flags['tls-cert'], flags['tls-key'], flags['tls-ca']];
    if (files.some(Boolean) && !files.every(Boolean)) throw new InvalidArgumentError('--tls-cert, --tls-key and --tls-ca go together: give all three');
    if (flags['peer-address'] !== undefined) parseRemoteAddress(flags['peer-address']);
    const tls = files.every(Boolean) ? {cert: files[0]!, key: files[1]!, ca: files[2]!} : undefined;
    const peerTls = {cert: flags['peer-tls-cert'], key: flags['peer-tls-key'], ca: flags['peer-tls-ca']};
    const link = await linkSites(flags.site, flags.remote, {tls, peerAddress: flags['peer-address'], peerTls});
    out.log(`linked to remote site ${link.name} at ${link.remote}`);
    return link;
  },
});
