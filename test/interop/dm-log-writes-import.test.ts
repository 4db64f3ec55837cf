// Issue 13, items 4 and 5: `marklog log import --format dm-log-writes` replays a log
// that real software wrote (QEMU's blklogwrites driver) through the host write path,
// so it is replicated and journalled; and a log marklog exported imports into
// another group with its marks. Bad logs are refused whole, before any write.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cli, cliJson} from '../helpers/cli.js';
import {readDmLog} from '../helpers/dm-log-reader.js';
import {cliFailure, digest, imageBytes, loggingSites} from '../helpers/logging.js';
import {createVolume, imagePath, randomBytes} from '../helpers/sites.js';

/** Runs qemu-io on DATA through the blklogwrites driver, recording every request in LOG. */
function qemuRecord(data: string, log: string, sectorSize: number, commands: string[]): void {
  const options = `driver=blklogwrites,file.driver=file,file.filename=${data},log.driver=file,log.filename=${log},log-sector-size=${sectorSize},log-append=off`;
  fs.writeFileSync(log, '');
  const result = spawnSync('qemu-io', ['--image-opts', options, ...commands.flatMap(c => ['-c', c])], {encoding: 'utf8'});
  if (result.status !== 0 || /error|fail/i.test(result.stdout + result.stderr)) throw new Error(`qemu-io: ${result.stdout}${result.stderr}`);
}

const WORKLOAD = ['write -P 0x5a 1M 64k', 'write -P 0x11 1000 3000', 'flush', 'discard 1M 8k', 'write -P 0x22 2M 4k', 'write -P 0x33 3M 512', 'flush'];

for (const sectorSize of [512, 4096]) {
  test(`a workload QEMU recorded with blklogwrites (${sectorSize}-byte sectors) imports into the M-VOL byte for byte, and a mark after it restores to QEMU's image at the remote`, t => {
    const sites = loggingSites(t, {size: '4M', logSize: '16M'});
    const {mvol, rvol} = sites.members[0];
    const data = path.join(sites.root, 'qemu-data.img');
    const log = path.join(sites.root, 'qemu.dmlog');
    fs.copyFileSync(imagePath(sites.primary, mvol), data);
    qemuRecord(data, log, sectorSize, WORKLOAD);
    const entries = readDmLog(log).entries;
    t.true(entries.some(e => e.kind === 'discard') && entries.some(e => e.kind === 'flush'), 'QEMU wrote writes, a discard and flushes');
    const result = cliJson(['log', 'import', '--site', sites.primary, '--vol', String(mvol), '--format', 'dm-log-writes', log]);
    t.like(result, {ldev: mvol, sectorSize, entries: entries.length, discards: 1});
    t.is(result.writes, entries.filter(e => e.kind === 'write').length);
    t.is(digest(imageBytes(imagePath(sites.primary, mvol))), digest(imageBytes(data)), 'the M-VOL is QEMU\'s image');
    const {markId} = cliJson(['mark', '--site', sites.primary, '--app', 'after-import']);
    const restored = path.join(sites.root, 'restored.img');
    cliJson(['restore', '--site', sites.remote, '--group', String(sites.group), '--mark', String(markId), '--rvol', String(rvol), '--to', restored]);
    t.is(digest(imageBytes(restored)), digest(imageBytes(data)), 'the journalled writes restore to QEMU\'s image');
  });
}

test('a log marklog exported imports into another group with its marks: each imported mark restores to the image of the mark it came from', t => {
  const source = loggingSites(t, {size: '256K'});
  const {mvol, rvol} = source.members[0];
  const marks: number[] = [];
  for (let i = 0; i < 12; i++) {
    source.host.write(mvol, (i * 7919) % (source.capacity - 5000), randomBytes(1 + ((i * 1237) % 5000)));
    if (i % 3 === 2) marks.push(source.host.mark().markId);
  }
  const exported = path.join(source.root, 'export.dmlog');
  cliJson(['log', 'export', '--site', source.remote, '--group', String(source.group), '--rvol', String(rvol), '--format', 'dm-log-writes', '--out', exported]);
  // The target group starts from the same base, so the marks must land on the same images.
  const target = loggingSites(t, {size: '256K', start: false});
  const into = target.members[0];
  fs.writeFileSync(path.join(target.root, 'base.bin'), imageBytes(imagePath(source.remote, rvol)));
  cliJson(['write', '--site', target.primary, '--vol', String(into.mvol), '--offset', '0', '--file', path.join(target.root, 'base.bin')]);
  cliJson(['log', 'start', '--site', target.primary, '--pairs', String(into.pair), '--group', '1']);
  const result = cliJson(['log', 'import', '--site', target.primary, '--vol', String(into.mvol), '--format', 'dm-log-writes', exported]);
  t.deepEqual(result.marks.map((m: {name: string}) => m.name), marks.map(String), 'each MARK entry became a mark named after it');
  for (const imported of result.marks as {name: string; markId: number}[]) {
    const file = path.join(target.root, `at-${imported.markId}.img`);
    cliJson(['restore', '--site', target.remote, '--group', '1', '--mark', String(imported.markId), '--rvol', String(into.rvol), '--to', file]);
    t.is(digest(imageBytes(file)), digest(source.host.atMark(Number(imported.name), mvol)), `imported mark ${imported.markId} is source mark ${imported.name}`);
  }
  const list = cliJson(['mark', 'list', '--site', target.primary]);
  t.deepEqual(list.groups[0].marks.map((m: {app: string}) => m.app), marks.map(String), 'the application name of each mark is the entry\'s name');
});

test('log import refuses a bad log whole, with one line, a non-zero exit and nothing written: not dm-log-writes, another version, a truncated entry, sectors that do not divide the volume, an entry past the end, marks for a volume in no log group', t => {
  const sites = loggingSites(t, {size: '4M', logSize: '16M', start: false});
  const {mvol} = sites.members[0];
  const odd = createVolume(sites.primary, '1001K');
  const small = createVolume(sites.primary, '1M');
  const good = path.join(sites.root, 'good.dmlog');
  const data = path.join(sites.root, 'data.img');
  fs.copyFileSync(imagePath(sites.primary, mvol), data);
  qemuRecord(data, good, 4096, WORKLOAD);
  const variant = (name: string, change: (log: Buffer) => Buffer) => {
    const file = path.join(sites.root, name);
    fs.writeFileSync(file, change(fs.readFileSync(good)));
    return file;
  };
  const withMark = variant('mark.dmlog', log => {
    const out = Buffer.from(log);
    out.writeBigUInt64LE(out.readBigUInt64LE(16) + 1n, 16);
    const mark = Buffer.alloc(4096);
    mark.writeBigUInt64LE(8n, 16);
    mark.writeBigUInt64LE(2n, 24);
    mark.write('42', 32);
    return Buffer.concat([out, mark]);
  });
  const cases: [string, number, string, RegExp][] = [
    [variant('random.dmlog', () => randomBytes(8192)), mvol, 'INVALID_ARGUMENT', /not a dm-log-writes log/],
    [variant('version.dmlog', log => Buffer.from(log).fill(2, 8, 9)), mvol, 'INVALID_ARGUMENT', /version 2/],
    [variant('truncated.dmlog', log => log.subarray(0, log.length - 100)), mvol, 'INVALID_ARGUMENT', /truncated/],
    [good, odd, 'INVALID_ARGUMENT', /do not divide/],
    [good, small, 'INVALID_ARGUMENT', /past the end of the volume/],
    [withMark, mvol, 'INVALID_ARGUMENT', /in no log group/],
    [path.join(sites.root, 'missing.dmlog'), mvol, 'INVALID_ARGUMENT', /cannot open/],
  ];
  const before = [mvol, odd, small].map(ldev => digest(imageBytes(imagePath(sites.primary, ldev))));
  for (const [file, ldev, code, message] of cases) {
    const args = ['log', 'import', '--site', sites.primary, '--vol', String(ldev), '--format', 'dm-log-writes', file];
    const failure = cliFailure(args);
    t.is(failure.code, code, path.basename(file));
    t.regex(failure.message, message, path.basename(file));
    t.is(failure.exitCode, 2);
    t.regex(cli(args).stderr, /^marklog: [^\n]+\n$/, 'one line');
  }
  t.deepEqual([mvol, odd, small].map(ldev => digest(imageBytes(imagePath(sites.primary, ldev)))), before, 'no volume changed');
});
