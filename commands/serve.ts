import {flag, defineCommand} from '../src/cli/command-spec.js';
import {siteFlag} from '../src/cli/flags.js';
import {Site} from '../src/site/site.js';
import {parseLdevList, parseListen, serveUntilSignal} from '../src/nbd/serve-run.js';
import {formatBytes} from '../src/util/units.js';

export default defineCommand({
  summary: 'Serve the site\'s volumes over NBD, so qemu, nbdcopy, fio or a file system (nbdfuse) can use them (docs/NBD.md).',
  description: 'One export per volume hosts may write, named by its LDEV number and by its volume id (and "" when there is only one). Every request is a host write or read: replicated, tracked or journalled by the pair\'s state; TRIM and WRITE_ZEROES are written as zeros (a zero record in a log). FLUSH and FUA make writes durable on the M-VOL, the R-VOL and the log. Prints one line when it listens (one JSON object with --json); SIGINT or SIGTERM lets the connections finish, flushes and exits 0. Loopback only unless --insecure: there is no TLS yet.',
  examples: [
    '<%= config.bin %> serve --site /srv/marklog/tokyo',
    '# then, for example\nqemu-img convert -n -O raw db.img nbd://127.0.0.1:10809/0',
    '# one volume, any free port, a line for scripts\n<%= config.bin %> serve --site /srv/marklog/tokyo --vol 2 --listen 127.0.0.1:0 --json',
  ],
  jsonFlag: false,
  flags: {
    site: siteFlag,
    listen: flag.string({summary: 'HOST:PORT to listen on (port 0: any free port).', default: '127.0.0.1:10809'}),
    vol: flag.string({summary: 'Only these LDEVs, comma-separated (default: every volume hosts may write).'}),
    insecure: flag.boolean({summary: 'Allow an address other than loopback, although anyone reaching it can write (no TLS yet).'}),
    json: flag.boolean({summary: 'The readiness line as one JSON object.'}),
  },
  async run({flags}, out) {
    const {host, port} = parseListen(flags.listen);
    const ldevs = flags.vol === undefined ? undefined : parseLdevList(flags.vol);
    if (flags.insecure && !flags.json) process.stderr.write('marklog: warning: serving without TLS on a non-loopback address: anyone who reaches it can read and write these volumes\n');
    await serveUntilSignal(Site.open(flags.site), {host, port, ldevs, insecure: flags.insecure}, server => {
      const {host: h, port: p} = server.address;
      const url = `nbd://${h.includes(':') ? `[${h}]` : h}:${p}`;
      if (flags.json) process.stdout.write(`${JSON.stringify({listening: {host: h, port: p, url}, exports: server.exports.map(e => ({ldev: e.ldev, names: e.names, capacity: e.capacity}))})}\n`);
      else out.log(`serving ${server.exports.map(e => `LDEV ${e.ldev} (${formatBytes(e.capacity)}) as ${url}/${e.ldev}`).join(', ')}`);
    });
  },
});
