// A host write `marklog serve` cannot do (here the M-VOL cannot be written past a file
// size limit) is answered EIO, as the protocol allows, and the reason goes to serve's
// standard error: the host's errno alone does not tell the operator what to fix.
// Before, serve said nothing, and the failed write's activity-log slot blocked every
// later write: its repair wrote the region onto the M-VOL again, which failed again.
// Now the repair only sends on what the volume holds, so the next write within the
// limit is done and acknowledged.
import fs from 'node:fs';
import test from 'ava';
import {PipelinedClient} from '../helpers/nbd-pipelined-client.js';
import {serve, stopServe} from '../helpers/serve.js';
import {createVolume, imagePath, tempDir} from '../helpers/sites.js';
import {ok} from '../helpers/tls-sites.js';

test('a write serve cannot do is answered EIO and its reason is on serve\'s standard error', async t => {
  const site = `${tempDir(t)}/tokyo`;
  ok(['site', 'init', site, '--role', 'primary']);
  createVolume(site, '4M');
  // 1024 blocks of 1 KiB: the M-VOL cannot be written at 1 MiB or past it.
  const served = await serve(t, site, [], {wrap: ['bash', '-c', 'ulimit -f 1024; exec "$@"', 'bash']});
  const host = await PipelinedClient.connect(served.port, '0');
  await t.throwsAsync(host.write(2 * 1024 * 1024, Buffer.alloc(4096, 1)), {message: /NBD error 5/});
  await host.write(0, Buffer.alloc(4096, 2));
  await host.disconnect();
  t.not(await stopServe(served), 'hung');
  t.regex(served.stderr(), /1 host request\(s\) failed: .*(too large|EFBIG)/i);
  t.is(fs.readFileSync(imagePath(site, 0))[0], 2, 'the write within the limit is on the M-VOL');
});
