import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import {cliJson} from '../helpers/cli.js';
import {refusedMacro} from '../helpers/refused.js';
import {EXIT_CODES} from '../../src/errors.js';
import {createVolume, imagePath} from '../helpers/sites.js';

// Hostile input against a logging pair: every row must be refused with its code and
// exit status, one line on stderr, and both sites left exactly as they were.
interface Fixture {
  root: string;
  primary: string;
  remote: string;
}

let fixture: Fixture | undefined;

function sites(): Fixture {
  if (fixture) return fixture;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'marklog-hostile-'));
  const primary = path.join(root, 'primary');
  const remote = path.join(root, 'remote');
  cliJson(['site', 'init', primary, '--role', 'primary']);
  cliJson(['site', 'init', remote, '--role', 'remote']);
  cliJson(['site', 'link', '--site', primary, '--remote', remote]);
  createVolume(primary, '1M');
  createVolume(primary, '1M');
  createVolume(remote, '1M');
  createVolume(remote, '1M', ['--pool']);
  createVolume(remote, '1M');
  cliJson(['pair', 'create', '--site', primary, '--mvol', '0', '--rvol', '0']);
  cliJson(['log', 'start', '--site', primary, '--pairs', '1', '--group', '1']);
  cliJson(['write', '--site', primary, '--vol', '0', '--offset', '0'], {input: 'logged'});
  cliJson(['mark', '--site', primary, '--app', 'db']);
  // A volume whose image someone replaced with a shorter file.
  fs.truncateSync(imagePath(primary, 1), 4096);
  fixture = {root, primary, remote};
  return fixture;
}

test.after.always(() => {
  if (fixture) fs.rmSync(fixture.root, {recursive: true, force: true});
});

const refused = refusedMacro(sites);

test.serial('a restore to a mark the log does not hold', refused, {
  args: f => ['restore', '--site', f.remote, '--group', '1', '--mark', '99', '--to', path.join(f.root, 'x.img')], code: 'MARK_NOT_FOUND', exitCode: EXIT_CODES.notFound,
});
test.serial('a non-numeric mark ID', refused, {
  args: f => ['restore', '--site', f.remote, '--group', '1', '--mark', 'one', '--to', path.join(f.root, 'x.img')], code: 'USAGE', exitCode: EXIT_CODES.usage,
});
test.serial('a restore asked of the primary, which holds no log (the answer names the remote)', refused, {
  args: f => ['restore', '--site', f.primary, '--group', '1', '--mark', '1', '--to', path.join(f.root, 'x.img')], code: 'WRONG_ROLE', exitCode: EXIT_CODES.conflict,
});
test.serial('a restore target ldev:abc', refused, {
  args: f => ['restore', '--site', f.remote, '--group', '1', '--mark', '1', '--to', 'ldev:abc'], code: 'INVALID_ARGUMENT', exitCode: EXIT_CODES.usage,
});
test.serial('a restore into a directory that does not exist (../ path)', refused, {
  args: f => ['restore', '--site', f.remote, '--group', '1', '--mark', '1', '--to', path.join(f.root, 'no', '..', 'nowhere', 'x.img')], code: 'BAD_TARGET', exitCode: EXIT_CODES.conflict,
});
test.serial('a restore onto an existing file', refused, {
  args: f => ['restore', '--site', f.remote, '--group', '1', '--mark', '1', '--to', path.join(f.remote, 'tables.json')], code: 'BAD_TARGET', exitCode: EXIT_CODES.conflict,
});
test.serial('a restore time that is not a date', refused, {
  args: f => ['restore', '--site', f.remote, '--group', '1', '--time', 'yesterday-ish', '--to', path.join(f.root, 'x.img')], code: 'INVALID_ARGUMENT', exitCode: EXIT_CODES.usage,
});
test.serial('a restore onto the log volume', refused, {
  args: f => ['restore', '--site', f.remote, '--group', '1', '--mark', '1', '--to', 'ldev:1'], code: 'VOLUME_IN_USE', exitCode: EXIT_CODES.conflict,
});
test.serial('an application name with a control character', refused, {
  args: f => ['mark', '--site', f.primary, '--app', 'db\u0007'], code: 'INVALID_ARGUMENT', exitCode: EXIT_CODES.usage,
});
test.serial('an application name of 300 bytes', refused, {
  args: f => ['mark', '--site', f.primary, '--app', 'x'.repeat(300)], code: 'INVALID_ARGUMENT', exitCode: EXIT_CODES.usage,
});
test.serial('a mark for a group that is not logging', refused, {
  args: f => ['mark', '--site', f.primary, '--group', '7'], code: 'WRONG_LOG_MODE', exitCode: EXIT_CODES.conflict,
});
test.serial('a threshold of 0 %', refused, {
  args: f => ['log', 'config', '--site', f.remote, '--group', '1', '--threshold', '0'], code: 'INVALID_ARGUMENT', exitCode: EXIT_CODES.usage,
});
test.serial('log apply up to an unknown mark', refused, {
  args: f => ['log', 'apply', '--site', f.remote, '--group', '1', '--upto', '42'], code: 'MARK_NOT_FOUND', exitCode: EXIT_CODES.notFound,
});
test.serial('log extend with a volume that is not in the pool (an R-VOL)', refused, {
  args: f => ['log', 'extend', '--site', f.remote, '--group', '1', '--ldev', '0'], code: 'VOLUME_IN_USE', exitCode: EXIT_CODES.conflict,
});
test.serial('log start again for a group already logging (as ERRORS.md documents)', refused, {
  args: f => ['log', 'start', '--site', f.primary, '--pairs', '1', '--group', '1'], code: 'WRONG_LOG_MODE', exitCode: EXIT_CODES.conflict,
});
test.serial('a chunk size that is not a power of two (3K)', refused, {
  args: f => ['pair', 'create', '--site', f.primary, '--mvol', '1', '--rvol', '2', '--chunk-size', '3K'], code: 'INVALID_ARGUMENT', exitCode: EXIT_CODES.usage,
});
test.serial('a capacity of 2 PiB', refused, {
  args: f => ['volume', 'create', '--site', f.primary, '--size', '2048T'], code: 'INVALID_ARGUMENT', exitCode: EXIT_CODES.usage,
});
test.serial('an offset beyond any number (99999999999999999999)', refused, {
  args: f => ['write', '--site', f.primary, '--vol', '0', '--offset', '99999999999999999999'], input: 'x', code: 'INVALID_ARGUMENT', exitCode: EXIT_CODES.usage,
});
test.serial('a site name with a path in it', refused, {
  args: f => ['site', 'init', path.join(f.root, 'third'), '--role', 'remote', '--name', '../etc'], code: 'INVALID_ARGUMENT', exitCode: EXIT_CODES.usage,
});
test.serial('a volume import of a path that does not exist', refused, {
  args: f => ['volume', 'import', path.join(f.root, '..', 'no-such-image.raw'), '--site', f.primary], code: 'IO_ERROR', exitCode: EXIT_CODES.io,
});
test.serial('a write to a volume whose image was replaced by a shorter file', refused, {
  args: f => ['write', '--site', f.primary, '--vol', '1', '--offset', '0'], input: 'x', code: 'IO_ERROR', exitCode: EXIT_CODES.io,
});
test.serial('a takeover of a group that does not exist', refused, {
  args: f => ['takeover', '--site', f.remote, '--group', '5'], code: 'GROUP_NOT_FOUND', exitCode: EXIT_CODES.notFound,
});
test.serial('a takeover mark that is neither latest nor a number', refused, {
  args: f => ['takeover', '--site', f.remote, '--group', '1', '--mark', 'newest'], code: 'INVALID_ARGUMENT', exitCode: EXIT_CODES.usage,
});
test.serial('a reverse resync of a pair that was never taken over', refused, {
  args: f => ['pair', 'resync', '--site', f.primary, '--pair', '1', '--reverse'], code: 'WRONG_PAIR_STATE', exitCode: EXIT_CODES.conflict,
});
