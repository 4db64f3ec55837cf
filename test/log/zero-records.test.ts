// Log format 2's zero record (FORMAT.md §4.8.3): a host write of nothing but zeros is
// journalled as a range with no data, restores as zeros (a hole where the file
// system can), exports as a dm-log-writes DISCARD, and a DISCARD imported from QEMU
// becomes one.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cliJson} from '../helpers/cli.js';
import {readDmLog} from '../helpers/dm-log-reader.js';
import {digest, imageBytes, loggingSites, logStatus} from '../helpers/logging.js';
import {imagePath, randomBytes} from '../helpers/sites.js';
import {Site} from '../../src/site/site.js';
import {Journal} from '../../src/log/journal.js';
import {findGroup} from '../../src/log/remote-log.js';

function recordKinds(remote: string, group: number): string[] {
  const site = Site.open(remote);
  try {
    const tables = site.tables();
    return [...Journal.open(site, tables, findGroup(site, tables, group)).records()].map(r => r.record.kind);
  } finally {
    site.close();
  }
}

test('Fig. 19 with zeros: a 1 MiB write of zeros is one zero record of 72 bytes, and the mark after it restores with those bytes zero and unallocated', t => {
  const sites = loggingSites(t, {size: '4M', logSize: '4M'});
  const {mvol, rvol} = sites.members[0];
  sites.host.write(mvol, 0, randomBytes(4096));
  const before = logStatus(sites.remote, sites.group).usage.used;
  sites.host.write(mvol, 1024 * 1024, Buffer.alloc(1024 * 1024));
  const used = logStatus(sites.remote, sites.group).usage.used - before;
  t.is(used, 72, 'a 48-byte header and a 24-byte target, no data');
  const {markId} = sites.host.mark('after-zeros');
  t.deepEqual(recordKinds(sites.remote, sites.group), ['write', 'zero', 'mark']);
  const file = path.join(sites.root, 'restored.img');
  cliJson(['restore', '--site', sites.remote, '--group', String(sites.group), '--mark', String(markId), '--rvol', String(rvol), '--to', file]);
  t.is(digest(imageBytes(file)), digest(sites.host.atMark(markId, mvol)));
  const allocated = fs.statSync(file).blocks * 512;
  t.true(allocated <= 3 * 1024 * 1024 + 64 * 1024, `the zeroed MiB is a hole in the restored image (${allocated} bytes allocated)`);
  const out = path.join(sites.root, 'export.dmlog');
  const exported = cliJson(['log', 'export', '--site', sites.remote, '--group', String(sites.group), '--rvol', String(rvol), '--format', 'dm-log-writes', '--out', out]);
  t.is(exported.discards, 1);
  t.like(readDmLog(out).entries[1], {kind: 'discard', offset: 1024 * 1024, length: 1024 * 1024});
});

test('a log volume of format 1 (MARKLOG_LOG_FORMAT=1) journals zeros as data, and restores them the same', t => {
  const sites = loggingSites(t, {size: '1M', start: false});
  const {pair, mvol, rvol} = sites.members[0];
  const started = cliJson(['log', 'start', '--site', sites.primary, '--pairs', String(pair), '--group', '1'], {env: {MARKLOG_LOG_FORMAT: '1'}});
  t.is(started.group, 1);
  sites.host.write(mvol, 8192, Buffer.alloc(8192));
  const {markId} = sites.host.mark();
  t.deepEqual(recordKinds(sites.remote, 1), ['write', 'mark']);
  const file = path.join(sites.root, 'restored.img');
  cliJson(['restore', '--site', sites.remote, '--group', '1', '--mark', String(markId), '--rvol', String(rvol), '--to', file]);
  t.is(digest(imageBytes(file)), digest(sites.host.atMark(markId, mvol)));
  t.is(fs.readFileSync(imagePath(sites.remote, sites.logLdev!)).readUInt32LE(8), 1, 'the log volume is format 1');
});
