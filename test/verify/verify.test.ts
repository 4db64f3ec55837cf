import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cli, cliJson} from '../helpers/cli.js';
import {createVolume, imagePath, randomBytes, snapshot, twoSites, writeAt} from '../helpers/sites.js';

function verify(site: string, extra: string[] = []) {
  const result = cli(['verify', '--site', site, '--json', ...extra]);
  return {code: result.code, report: JSON.parse(result.stdout)};
}

function loggedSites(t: Parameters<typeof twoSites>[0]) {
  const sites = twoSites(t);
  const mvol = createVolume(sites.primary, '4M');
  const rvol = createVolume(sites.remote, '4M');
  const log = createVolume(sites.remote, '2M', ['--pool']);
  cliJson(['pair', 'create', '--site', sites.primary, '--mvol', String(mvol), '--rvol', String(rvol)]);
  return {...sites, mvol, rvol, log};
}

test('a healthy pair and log verify clean with exit 0, and verify changes nothing', t => {
  const {primary, remote, mvol} = loggedSites(t);
  cliJson(['log', 'start', '--site', primary, '--pairs', '1']);
  for (let i = 0; i < 4; i++) {
    writeAt(primary, mvol, i * 70_000, randomBytes(5000));
    cliJson(['mark', '--site', primary]);
  }
  const before = [snapshot(primary), snapshot(remote)];
  for (const site of [primary, remote]) {
    const {code, report} = verify(site, ['--deep']);
    t.is(code, 0);
    t.true(report.clean);
    t.deepEqual(report.findings, []);
  }
  t.is(verify(remote).report.checked.groups[0].records, 8);
  t.deepEqual([snapshot(primary), snapshot(remote)], before);
});

test('a flipped byte in a log record is a finding with its log volume, offset and log ID, exit 9', t => {
  const {primary, remote, mvol, log} = loggedSites(t);
  cliJson(['log', 'start', '--site', primary, '--pairs', '1']);
  writeAt(primary, mvol, 0, randomBytes(3000));
  cliJson(['mark', '--site', primary]);
  const file = imagePath(remote, log);
  const fd = fs.openSync(file, 'r+');
  // Flipped, not overwritten: the random data already holds any given value there once in 256 runs.
  const at = 8192 + 32 + 16 + 100;
  const byte = Buffer.alloc(1);
  fs.readSync(fd, byte, 0, 1, at);
  fs.writeSync(fd, Buffer.from([byte[0] ^ 0xff]), 0, 1, at);
  fs.closeSync(fd);
  const {code, report} = verify(remote);
  t.is(code, 9);
  t.false(report.clean);
  t.is(report.findings.length, 1);
  t.is(report.findings[0].check, 'checksum-mismatch');
  t.regex(report.findings[0].where, new RegExp(`log volume ${log} offset 8192, log ID 1`));
});

test('--deep finds an R-VOL that differs from its M-VOL in PAIR state', t => {
  const {primary, remote, mvol, rvol} = loggedSites(t);
  writeAt(primary, mvol, 200_000, randomBytes(1000));
  t.is(verify(primary, ['--deep']).code, 0);
  const fd = fs.openSync(imagePath(remote, rvol), 'r+');
  fs.writeSync(fd, Buffer.from('bit rot'), 0, 7, 3 * 65536 + 5);
  fs.closeSync(fd);
  const {code, report} = verify(primary, ['--deep']);
  t.is(code, 9);
  t.is(report.findings[0].check, 'pair-content');
  t.regex(report.findings[0].message, /1 chunk\(s\) differ .*chunk 3/);
  t.is(verify(primary).code, 0, 'without --deep the contents are not compared');
});

test('damaged tables, a truncated image and a damaged bitmap header are each reported, never rebuilt', t => {
  const {primary, mvol} = loggedSites(t);
  const bitmap = path.join(primary, 'pairs', 'pair-0001.bitmap');
  const fd = fs.openSync(bitmap, 'r+');
  fs.writeSync(fd, Buffer.from([0x99]), 0, 1, 13);
  fs.closeSync(fd);
  fs.truncateSync(imagePath(primary, mvol), 1024 * 1024);
  const {code, report} = verify(primary);
  t.is(code, 9);
  t.deepEqual(report.findings.map((f: {check: string}) => f.check).sort(), ['pair-bitmap', 'volume-image']);

  const tables = path.join(primary, 'tables.json');
  fs.writeFileSync(tables, fs.readFileSync(tables, 'utf8').replace('"pairs": [', '"pairs": 7, "x": ['));
  const damaged = verify(primary);
  t.is(damaged.code, 9);
  t.is(damaged.report.findings[0].check, 'tables');
  t.true(fs.readFileSync(tables, 'utf8').includes('"pairs": 7'), 'the damaged file is left as it was');
});
