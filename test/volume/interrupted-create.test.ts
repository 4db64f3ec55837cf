import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {BIN, cli, cliJson} from '../helpers/cli.js';
import {createVolume, imagePath, randomBytes, sha256, snapshot, twoSites} from '../helpers/sites.js';
import {EXIT_CODES} from '../../src/errors.js';

const MiB = 1024 * 1024;

interface Finding {
  severity: string;
  check: string;
  where: string;
  message: string;
  action: string;
}

function verify(site: string): {code: number; findings: Finding[]} {
  const result = cli(['verify', '--site', site, '--json']);
  return {code: result.code, findings: JSON.parse(result.stdout).findings};
}

const quote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;

/** `marklog volume create` SIGKILLed as it renames its new tables into place: after the image is made, before the tables name it. */
function killedAtTablesRename(site: string, size: string) {
  return spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', '-e', 'trace=rename,renameat,renameat2', '-e', 'inject=rename,renameat,renameat2:signal=KILL:when=1',
    process.execPath, BIN, 'volume', 'create', '--site', site, '--size', size], {encoding: 'utf8'});
}

/** `marklog ARGS --json` under a file size limit (ulimit -f, KiB). */
function underFileLimit(kib: number, args: string[]) {
  const command = [process.execPath, BIN, ...args, '--json'].map(quote).join(' ');
  const result = spawnSync('bash', ['-c', `ulimit -f ${kib}; exec ${command}`], {encoding: 'utf8', env: {...process.env, NODE_ENV: ''}});
  return {code: result.status, error: result.stdout ? JSON.parse(result.stdout).error : undefined, stderr: result.stderr};
}

/** Volumes of 512 bytes until the next row takes tables.json past a KiB boundary: returns that limit, in KiB. */
function tablesJustBelowALimit(site: string): number {
  const tables = path.join(site, 'tables.json');
  for (let last = fs.statSync(tables).size; ;) {
    createVolume(site, '512');
    const size = fs.statSync(tables).size;
    const limit = Math.ceil(size / 1024);
    if (size + (size - last) > limit * 1024 + 16) return limit;
    last = size;
  }
}

test('a volume create killed between making its image and saving the tables: verify names the orphan and its size, the next create takes it back', t => {
  const {primary} = twoSites(t);
  createVolume(primary, '1M');

  const killed = killedAtTablesRename(primary, '1M');
  t.is(killed.signal, 'SIGKILL', killed.stderr);
  t.true(fs.existsSync(imagePath(primary, 1)), 'the image was made');
  t.is(cliJson(['volume', 'list', '--site', primary]).volumes.length, 1, 'the tables do not name it');

  const found = verify(primary);
  t.is(found.code, EXIT_CODES.findings);
  const orphan = found.findings.find(f => f.check === 'orphan-image');
  t.truthy(orphan, JSON.stringify(found.findings));
  t.regex(orphan!.where, /volumes\/ldev-0001\.img/);
  t.regex(orphan!.message, /1048576 bytes/);
  t.regex(orphan!.action, /marklog volume create/);

  const next = cliJson(['volume', 'create', '--site', primary, '--size', '2M']);
  t.like(next, {ldev: 1, capacity: 2 * MiB});
  t.is(fs.statSync(imagePath(primary, 1)).size, 2 * MiB);
  t.deepEqual(verify(primary), {code: 0, findings: []});
});

test('a volume create whose tables the file system refuses (EFBIG) leaves no image behind, and the next create works', t => {
  const {primary} = twoSites(t);
  const limit = tablesJustBelowALimit(primary);
  const count = cliJson(['volume', 'list', '--site', primary]).volumes.length;
  const before = snapshot(primary);

  const refused = underFileLimit(limit, ['volume', 'create', '--site', primary, '--size', '512']);
  t.is(refused.code, EXIT_CODES.io, refused.stderr);
  t.is(refused.error?.code, 'FILE_NOT_SAVED');
  t.deepEqual(snapshot(primary), before, 'neither an image nor a temporary is left');

  t.is(createVolume(primary, '1M'), count);
  t.deepEqual(verify(primary), {code: 0, findings: []});
});

test('an image no volume row names that holds data is never touched: create moves past it, verify reports it with the import that adopts it', t => {
  const {primary} = twoSites(t);
  createVolume(primary, '1M');
  // As after tables.json was restored from a copy older than LDEV 1.
  const stray = imagePath(primary, 1);
  fs.writeFileSync(stray, randomBytes(4096), {mode: 0o600});
  fs.truncateSync(stray, MiB);
  const hash = sha256(stray);

  const created = cli(['volume', 'create', '--site', primary, '--size', '1M'], {env: {NODE_ENV: undefined}});
  t.is(created.code, 0, created.stderr);
  t.is(created.stdout, '2\n');
  t.regex(created.stderr, /^marklog: warning: [^\n]*ldev-0001\.img[^\n]*\n$/);
  t.is(sha256(stray), hash, 'the stray image is untouched');

  const found = verify(primary);
  t.is(found.code, EXIT_CODES.findings);
  const orphan = found.findings.find(f => f.check === 'orphan-image');
  t.like(orphan, {severity: 'error'});
  t.regex(orphan!.message, /1048576 bytes/);
  t.regex(orphan!.action, /marklog volume import/);

  // What the action says: adopt it, and verify is clean.
  t.is(cliJson(['volume', 'import', '--site', primary, stray]).ldev, 3);
  t.deepEqual(verify(primary), {code: 0, findings: []});
});
