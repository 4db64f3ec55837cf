// Issue 13, item 3: `marklog log export --format dm-log-writes` writes a log the
// Linux world's tools replay. Proven with a reader written from the kernel's
// document alone (test/helpers/dm-log-reader.ts): replaying the export onto a copy
// of the base gives, at every mark, the image the host had then and the image
// `marklog restore` gives.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cli, cliJson} from '../helpers/cli.js';
import {readDmLog, replayDmLog} from '../helpers/dm-log-reader.js';
import {cliFailure, digest, imageBytes, loggingSites, type LoggingSites} from '../helpers/logging.js';
import {imagePath, randomBytes} from '../helpers/sites.js';
import {Rng, chooseSeed} from '../helpers/fuzz.js';

/** Writes of every alignment (inside a sector, across sectors, whole sectors, overlapping) with marks between. */
function workload(t: Parameters<typeof loggingSites>[0], sites: LoggingSites, seed: number): number[] {
  const rng = new Rng(seed);
  const marks: number[] = [];
  for (let i = 0; i < 24; i++) {
    const member = rng.pick(sites.members);
    const length = rng.pick([1, 7, 511, 512, 513, 4096, 5000, 9000]);
    const offset = rng.chance(0.3) ? rng.int(16) * 512 : rng.int(sites.capacity - length);
    sites.host.write(member.mvol, offset, randomBytes(length));
    if (i % 4 === 3) marks.push(sites.host.mark(`step-${i}`).markId);
  }
  t.log(`seed ${seed}: ${marks.length} marks`);
  return marks;
}

function exportArgs(sites: LoggingSites, rvol: number, out: string, more: string[] = []): string[] {
  return ['log', 'export', '--site', sites.remote, '--group', String(sites.group), '--rvol', String(rvol), '--format', 'dm-log-writes', '--out', out, ...more];
}

test('Fig. 23 elsewhere: replaying the export onto a copy of the base gives, at every mark, the image the host had (512- and 4096-byte sectors)', t => {
  const sites = loggingSites(t, {pairs: 2, size: '256K'});
  const marks = workload(t, sites, chooseSeed());
  for (const member of sites.members) {
    const base = imageBytes(imagePath(sites.remote, member.rvol));
    for (const sectorSize of [512, 4096]) {
      const out = path.join(sites.root, `rvol-${member.rvol}-${sectorSize}.dmlog`);
      const result = cliJson(exportArgs(sites, member.rvol, out, ['--sector-size', String(sectorSize)]));
      const log = readDmLog(out);
      t.is(log.sectorSize, sectorSize);
      t.is(result.entries, log.entries.length);
      t.is(result.marks, marks.length, 'every mark of the group, whichever volume it follows');
      if (sectorSize === 4096) t.true(result.widened > 0, 'writes inside a sector were widened');
      const seen: number[] = [];
      replayDmLog(log, base, (name, image) => {
        seen.push(Number(name));
        t.is(digest(image), digest(sites.host.atMark(Number(name), member.mvol)), `R-VOL ${member.rvol} at mark ${name}, ${sectorSize}-byte sectors`);
      });
      t.deepEqual(seen, marks, 'the marks, in order, named by their mark IDs in decimal');
      for (const entry of log.entries) if (entry.kind === 'write') t.is(entry.data.length % sectorSize, 0);
    }
  }
});

test('Fig. 23 elsewhere: the export up to a mark ends with that mark, and replays to what marklog restore gives there', t => {
  const sites = loggingSites(t, {size: '256K'});
  const marks = workload(t, sites, chooseSeed());
  const {rvol} = sites.members[0];
  const upto = marks[Math.floor(marks.length / 2)];
  const out = path.join(sites.root, 'upto.dmlog');
  const result = cliJson(exportArgs(sites, rvol, out, ['--upto', String(upto)]));
  t.is(result.upto, upto);
  const log = readDmLog(out);
  const last = log.entries.at(-1)!;
  t.like(last, {kind: 'mark', name: String(upto)});
  const replayed = replayDmLog(log, imageBytes(imagePath(sites.remote, rvol)));
  const restored = path.join(sites.root, 'restored.img');
  cliJson(['restore', '--site', sites.remote, '--group', String(sites.group), '--mark', String(upto), '--rvol', String(rvol), '--to', restored]);
  t.is(digest(replayed), digest(imageBytes(restored)), 'the replay equals the restore');
});

test('log export refuses bad input with one line, a non-zero exit and no file: a sector size other than 512 or 4096, a volume not in the group, an unknown mark, an existing file, an unknown format', t => {
  const sites = loggingSites(t, {size: '256K'});
  workload(t, sites, 7);
  const {rvol} = sites.members[0];
  const out = path.join(sites.root, 'x.dmlog');
  const existing = path.join(sites.root, 'existing.dmlog');
  fs.writeFileSync(existing, 'keep me');
  const cases: [string[], string, string][] = [
    [exportArgs(sites, rvol, out, ['--sector-size', '1024']), 'INVALID_ARGUMENT', out],
    [exportArgs(sites, 99, out), 'INVALID_ARGUMENT', out],
    [exportArgs(sites, rvol, out, ['--upto', '999']), 'MARK_NOT_FOUND', out],
    [exportArgs(sites, rvol, existing), 'BAD_TARGET', existing],
    [exportArgs(sites, rvol, out).map(a => (a === 'dm-log-writes' ? 'qcow2' : a)), 'USAGE', out],
  ];
  for (const [args, code] of cases) {
    const failure = cliFailure(args);
    t.is(failure.code, code, args.join(' '));
    t.not(failure.exitCode, 0);
    const human = cli(args);
    t.regex(human.stderr, /^marklog: [^\n]+\n$/, 'one line');
  }
  t.false(fs.existsSync(out));
  t.is(fs.readFileSync(existing, 'utf8'), 'keep me');
  t.deepEqual(fs.readdirSync(sites.root).filter(f => f.includes('.partial')), []);
});
