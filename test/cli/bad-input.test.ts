import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import {cli, cliJson} from '../helpers/cli.js';
import {refusedMacro} from '../helpers/refused.js';
import {EXIT_CODES} from '../../src/errors.js';
import {createVolume, snapshot} from '../helpers/sites.js';

// One set of sites serves every row: each bad invocation must leave it exactly as it
// was, which is what the rows prove. The rows run one after another.
interface Fixture {
  root: string;
  /** Primary with LDEV 0 (1M, M-VOL of pair 1, PAIR) and LDEV 1 (1M, unused). */
  primary: string;
  /** Remote with LDEV 0 (1M, R-VOL of pair 1) and LDEV 1 (512K, unused). No link of its own. */
  remote: string;
  /** A second primary, unlinked, with no volumes. */
  lone: string;
}

let fixture: Fixture | undefined;

function sites(): Fixture {
  if (fixture) return fixture;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'marklog-bad-input-'));
  const [primary, remote, lone] = ['primary', 'remote', 'lone'].map(name => path.join(root, name));
  for (const [dir, role] of [[primary, 'primary'], [remote, 'remote'], [lone, 'primary']]) cliJson(['site', 'init', dir, '--role', role]);
  cliJson(['site', 'link', '--site', primary, '--remote', remote]);
  createVolume(primary, '1M');
  createVolume(primary, '1M');
  createVolume(remote, '1M');
  createVolume(remote, '512K');
  cliJson(['pair', 'create', '--site', primary, '--mvol', '0', '--rvol', '0']);
  fixture = {root, primary, remote, lone};
  return fixture;
}

test.after.always(() => {
  if (fixture) fs.rmSync(fixture.root, {recursive: true, force: true});
});

const rejected = refusedMacro(sites);

// As an administrator's shell runs it, without ava's NODE_ENV=test.
const env = {NODE_ENV: undefined};

test.serial('a site directory that does not exist', rejected, {
  args: f => ['volume', 'list', '--site', path.join(f.root, 'nowhere')], code: 'SITE_NOT_FOUND', exitCode: EXIT_CODES.notFound,
});
test.serial('a write to an LDEV that does not exist', rejected, {
  args: f => ['write', '--site', f.primary, '--vol', '42', '--offset', '0'], input: 'data', code: 'VOLUME_NOT_FOUND', exitCode: EXIT_CODES.notFound,
});
test.serial('pair create with an M-VOL that does not exist', rejected, {
  args: f => ['pair', 'create', '--site', f.primary, '--mvol', '42', '--rvol', '1'], code: 'VOLUME_NOT_FOUND', exitCode: EXIT_CODES.notFound,
});
test.serial('suspend of an unknown pair', rejected, {
  args: f => ['pair', 'suspend', '--site', f.primary, '--pair', '99'], code: 'PAIR_NOT_FOUND', exitCode: EXIT_CODES.notFound,
});
test.serial('delete of an unknown pair', rejected, {
  args: f => ['pair', 'delete', '--site', f.primary, '--pair', '7'], code: 'PAIR_NOT_FOUND', exitCode: EXIT_CODES.notFound,
});
test.serial('pair create at a remote site, which has no remote of its own', rejected, {
  args: f => ['pair', 'create', '--site', f.remote, '--mvol', '1', '--rvol', '1'], code: 'NOT_LINKED', exitCode: EXIT_CODES.conflict,
});
test.serial('pair create with an R-VOL smaller than the M-VOL', rejected, {
  args: f => ['pair', 'create', '--site', f.primary, '--mvol', '1', '--rvol', '1'], code: 'CAPACITY_MISMATCH', exitCode: EXIT_CODES.conflict,
});
test.serial('pair create with an R-VOL already in a pair', rejected, {
  args: f => ['pair', 'create', '--site', f.primary, '--mvol', '1', '--rvol', '0'], code: 'VOLUME_IN_USE', exitCode: EXIT_CODES.conflict,
});
test.serial('a host write to an R-VOL', rejected, {
  args: f => ['write', '--site', f.remote, '--vol', '0', '--offset', '0'], input: 'data', code: 'VOLUME_IN_USE', exitCode: EXIT_CODES.conflict,
});
test.serial('a write that runs past the capacity', rejected, {
  args: f => ['write', '--site', f.primary, '--vol', '0', '--offset', String(1024 * 1024 - 100)], input: 'x'.repeat(200), code: 'OUT_OF_RANGE', exitCode: EXIT_CODES.usage,
});
test.serial('a write at offset 1 MiB of a 1 MiB volume', rejected, {
  args: f => ['write', '--site', f.primary, '--vol', '1', '--offset', '1M'], input: 'x', code: 'OUT_OF_RANGE', exitCode: EXIT_CODES.usage,
});
test.serial('a negative offset (--offset=-1)', rejected, {
  args: f => ['write', '--site', f.primary, '--vol', '0', '--offset=-1'], input: 'data', code: 'INVALID_ARGUMENT', exitCode: EXIT_CODES.usage,
});
test.serial('a malformed size (--size 12X)', rejected, {
  args: f => ['volume', 'create', '--site', f.primary, '--size', '12X'], code: 'INVALID_ARGUMENT', exitCode: EXIT_CODES.usage,
});
test.serial('a zero size (--size 0)', rejected, {
  args: f => ['volume', 'create', '--site', f.primary, '--size', '0'], code: 'INVALID_ARGUMENT', exitCode: EXIT_CODES.usage,
});
test.serial('a size that is not a multiple of 512 (--size 100)', rejected, {
  args: f => ['volume', 'create', '--site', f.primary, '--size', '100'], code: 'INVALID_ARGUMENT', exitCode: EXIT_CODES.usage,
});
test.serial('a non-numeric LDEV (--vol abc)', rejected, {
  args: f => ['write', '--site', f.primary, '--vol', 'abc', '--offset', '0'], input: 'data', code: 'USAGE', exitCode: EXIT_CODES.usage,
});
test.serial('a negative pair number (--pair -1)', rejected, {
  args: f => ['pair', 'suspend', '--site', f.primary, '--pair=-1'], code: 'USAGE', exitCode: EXIT_CODES.usage,
});
test.serial('pair create without --rvol', rejected, {
  args: f => ['pair', 'create', '--site', f.primary, '--mvol', '1'], code: 'USAGE', exitCode: EXIT_CODES.usage,
});
test.serial('site init on an existing site', rejected, {
  args: f => ['site', 'init', f.primary, '--role', 'primary'], code: 'SITE_EXISTS', exitCode: EXIT_CODES.conflict,
});
test.serial('site init with an unknown role', rejected, {
  args: f => ['site', 'init', path.join(f.root, 'third'), '--role', 'backup'], code: 'USAGE', exitCode: EXIT_CODES.usage,
});
test.serial('a link to a primary site', rejected, {
  args: f => ['site', 'link', '--site', f.lone, '--remote', f.primary], code: 'WRONG_ROLE', exitCode: EXIT_CODES.conflict,
});
test.serial('a link to a directory that does not exist', rejected, {
  args: f => ['site', 'link', '--site', f.lone, '--remote', path.join(f.root, 'missing')], code: 'REMOTE_UNREACHABLE', exitCode: EXIT_CODES.remote,
});

test.serial('resync of a pair already in PAIR is a no-op that exits 0 with a note', t => {
  const f = sites();
  const before = snapshot(f.root);

  const human = cli(['pair', 'resync', '--site', f.primary, '--pair', '1'], {env});
  t.is(human.code, 0, human.stderr);
  t.is(human.stderr, '');
  t.regex(human.stdout, /^pair 1: [^\n]+\n$/);

  const json = cliJson(['pair', 'resync', '--site', f.primary, '--pair', '1']);
  t.like(json, {pair: 1, previous: 'PAIR', state: 'PAIR', copiedBytes: 0});
  t.is(typeof json.note, 'string');
  t.true(json.note.length > 0);

  t.deepEqual(snapshot(f.root), before, 'nothing on disk changed');
});
