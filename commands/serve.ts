import {flag, defineCommand} from '../src/cli/command-spec.js';
import {siteFlag} from '../src/cli/flags.js';
import {Site} from '../src/site/site.js';
// Served writes go on to the site's pairs through their links: serve needs the link transports.
import '../src/transport/transports.js';
import {readyJson, readyText} from '../src/nbd/ready-line.js';
import {serveOptions, serveUntilSignal, serveWarnings} from '../src/nbd/serve-run.js';

export default defineCommand({
  summary: 'Serve the site\'s volumes over NBD, so qemu, nbdcopy, fio or a file system (nbdfuse) can use them (docs/NBD.md).',
  description: 'One export per volume hosts may write, named by its LDEV number and by its volume id (and "" when there is only one). Every request is a host write or read: replicated, tracked or journalled by the pair\'s state; TRIM and WRITE_ZEROES are written as zeros (a zero record in a log). FLUSH and FUA make writes durable on the M-VOL, the R-VOL and the log. It listens on loopback, on a Unix socket (--socket), or with TLS (--tls-cert, --tls-key, --tls-ca: NBD\'s STARTTLS, and only clients with a certificate the CA signed) on any address; --insecure serves another address in plain text, with a warning. One host at a time writes an export (it may use several connections); another host is refused until it has gone. Prints one line when it listens (one JSON object with --json); SIGINT or SIGTERM lets the connections finish, flushes and exits 0.',
  examples: [
    '<%= config.bin %> serve --site /srv/marklog/tokyo',
    '# then, for example\nqemu-img convert -n -O raw db.img nbd://127.0.0.1:10809/0',
    '# one volume, any free port, a line for scripts\n<%= config.bin %> serve --site /srv/marklog/tokyo --vol 2 --listen 127.0.0.1:0 --json',
    '# on the network, for clients with a certificate the CA signed (TLS)\n<%= config.bin %> serve --site /srv/marklog/tokyo --listen 0.0.0.0:10809 --tls-cert server-cert.pem --tls-key server-key.pem --tls-ca ca-cert.pem',
    '# a qemu client of that server: DIR holds ca-cert.pem, client-cert.pem and client-key.pem\nqemu-io --object tls-creds-x509,id=tls0,endpoint=client,dir=DIR --image-opts driver=nbd,host=tokyo,port=10809,export=0,tls-creds=tls0 -c \'read 0 64k\'',
    '# a Unix socket only, read-only\n<%= config.bin %> serve --site /srv/marklog/tokyo --socket /run/marklog.sock --read-only',
    '# then\nnbdinfo \'nbd+unix:///0?socket=/run/marklog.sock\'',
    '# at the remote: R-VOL 3 as it was at mark 42, read-only, without restoring it\n<%= config.bin %> serve --site /srv/marklog/osaka --group 1 --mark 42 --rvol 3',
  ],
  jsonFlag: false,
  flags: {
    site: siteFlag,
    listen: flag.string({summary: 'HOST:PORT to listen on (port 0: any free port). Default 127.0.0.1:10809, unless --socket is given alone.'}),
    socket: flag.string({summary: 'Also (or, without --listen, only) listen on this Unix socket; only its owner may connect.'}),
    vol: flag.string({summary: 'Only these LDEVs, comma-separated (default: every volume hosts may write).'}),
    group: flag.integer({summary: 'With --mark: serve this log group\'s mark at a remote (read-only, from the base and the log).', min: 0}),
    mark: flag.integer({summary: 'With --group: the mark to serve, one export per R-VOL, named by its LDEV.', min: 0}),
    rvol: flag.integer({summary: 'With --mark: only this R-VOL.', min: 0}),
    'read-only': flag.boolean({summary: 'Exports are read-only: writes, trims and zeroes get EPERM.'}),
    'tls-cert': flag.string({summary: 'TLS: the server\'s certificate (PEM); clients must then use TLS.'}),
    'tls-key': flag.string({summary: 'TLS: the private key of --tls-cert (PEM, no passphrase).'}),
    'tls-ca': flag.string({summary: 'TLS: the CA (PEM) that signed the client certificates to accept.'}),
    insecure: flag.boolean({summary: 'Serve an address other than loopback without TLS, although anyone reaching it can read and write.'}),
    json: flag.boolean({summary: 'The readiness line as one JSON object.'}),
  },
  async run({flags}, out) {
    const options = serveOptions({
      listen: flags.listen, socket: flags.socket, vol: flags.vol, insecure: flags.insecure, readOnly: flags['read-only'],
      tlsCert: flags['tls-cert'], tlsKey: flags['tls-key'], tlsCa: flags['tls-ca'], group: flags.group, mark: flags.mark, rvol: flags.rvol,
    });
    const warnings = serveWarnings(options);
    // While serving, a pair that falls to PSUE or a log past its threshold is said on stderr, as `marklog write` says it.
    await serveUntilSignal(Site.open(flags.site), {...options, onWarning: warning => out.warnAll([warning])}, server => {
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(readyJson(server, warnings))}\n`);
        return;
      }
      out.warnAll(warnings);
      out.log(readyText(server));
    });
  },
});
