// Issue 14, item 4: `marklog serve --group G --mark ID` at the remote serves a volume as
// it was at a mark, read-only, from the base and the log — without restoring it — and
// what real clients read from it is byte for byte what `marklog restore` builds.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cli} from '../helpers/cli.js';
import {loggingSites, restore} from '../helpers/logging.js';
import {run, serve} from '../helpers/serve.js';

test('Fig. 23 without a restore: nbdcopy and qemu-img read a mark export at the remote as the restore of that mark, and qemu-io may not write to it; after an apply its reads fail', async t => {
  const sites = loggingSites(t, {pairs: 2, size: '4M', logSize: '32M'});
  const {host} = sites;
  const [first, second] = sites.members;
  // Overlapping, unaligned writes and zeroed ranges on both volumes, a mark between, more after.
  for (let i = 0; i < 40; i++) host.write(first.mvol, (i * 92_821) % (4 * 1024 * 1024 - 70_000), crypto.randomBytes(1 + (i * 7919) % 65_536));
  host.write(second.mvol, 1_000_000, Buffer.alloc(300_000));
  host.write(second.mvol, 1_100_001, crypto.randomBytes(4097));
  const {markId} = host.mark('export');
  for (let i = 0; i < 10; i++) host.write(first.mvol, i * 300_000, crypto.randomBytes(100_000));

  const served = await serve(t, sites.remote, ['--group', String(sites.group), '--mark', String(markId)]);
  t.true(served.ready.readOnly);
  t.deepEqual(served.ready.exports.map(e => e.ldev), [first.rvol, second.rvol]);
  for (const member of [first, second]) {
    const copy = path.join(sites.root, `mark-${member.rvol}.img`);
    run('nbdcopy', [`${served.url}/${member.rvol}`, copy]);
    const restored = path.join(sites.root, `restored-${member.rvol}.img`);
    restore(sites.remote, sites.group, ['--mark', String(markId), '--rvol', String(member.rvol), '--to', restored]);
    const read = fs.readFileSync(copy);
    t.true(read.equals(fs.readFileSync(restored)), `R-VOL ${member.rvol}: the export equals the restore`);
    t.true(read.equals(host.atMark(markId, member.mvol)), `R-VOL ${member.rvol}: the export equals what the host had at the mark`);
  }
  // qemu-img compares the export with the restored image itself; qemu-io may not write to it.
  run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', `${served.url}/${first.rvol}`, path.join(sites.root, `restored-${first.rvol}.img`)]);
  const tampered = path.join(sites.root, 'tampered.img');
  fs.copyFileSync(path.join(sites.root, `restored-${first.rvol}.img`), tampered);
  // Its first byte flipped: the host's bytes are random, so any fixed byte could be the one already there.
  fs.writeFileSync(tampered, Buffer.from([fs.readFileSync(tampered)[0]! ^ 0xff]), {flag: 'r+'});
  t.throws(() => run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', `${served.url}/${first.rvol}`, tampered]), undefined, 'qemu-img compare tells a different image');
  t.throws(() => run('qemu-io', ['-f', 'raw', '-c', 'write -P 0x11 0 4k', `${served.url}/${first.rvol}`]), {message: /Permission denied|read.only|EPERM/i});
  // An apply moves the base on: the export's plan no longer fits it, so reads fail rather than mix two states.
  t.is(cli(['log', 'apply', '--site', sites.remote, '--group', String(sites.group), '--upto', String(markId)]).code, 0);
  t.throws(() => run('nbdcopy', [`${served.url}/${first.rvol}`, path.join(sites.root, 'after-apply.img')]), undefined, 'a read after the apply fails');
  served.child.kill('SIGTERM');
  t.is((await served.done).code, 0);
});

test('a mark export of a mark the log does not hold is a one-line error naming it', t => {
  const sites = loggingSites(t, {size: '1M', logSize: '4M'});
  // serve's --json is its readiness line; errors are the usual one line on stderr.
  const missing = cli(['serve', '--site', sites.remote, '--group', String(sites.group), '--mark', '99', '--listen', '127.0.0.1:0']);
  t.not(missing.code, 0);
  t.regex(missing.stderr, /^marklog: log group 1 has no mark 99\b[^\n]*\n$/);
  const half = cli(['serve', '--site', sites.remote, '--mark', '1', '--listen', '127.0.0.1:0']);
  t.not(half.code, 0);
  t.regex(half.stderr, /^marklog: a mark export needs both --group and --mark\b[^\n]*\n$/);
});
