import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {BIN, cliJson} from '../helpers/cli.js';
import {createVolume, tempDir, twoSites} from '../helpers/sites.js';
import {EXIT_CODES} from '../../src/errors.js';

interface Refused {
  code: number | null;
  error?: {code: string; message: string; hint?: string};
  stderr: string;
}

const quote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;

/** `marklog ARGS --json` under a file size limit (ulimit -f, KiB): a file system that refuses growth with EFBIG. */
function underFileLimit(kib: number, args: string[]): Refused {
  const command = [process.execPath, BIN, ...args, '--json'].map(quote).join(' ');
  const result = spawnSync('bash', ['-c', `ulimit -f ${kib}; exec ${command}`], {encoding: 'utf8', env: {...process.env, NODE_ENV: ''}});
  return {code: result.status, error: result.stdout ? JSON.parse(result.stdout).error : undefined, stderr: result.stderr};
}

/**
 * `marklog ARGS --json` whose first rename the file system refuses with `errno`
 * (strace fault injection; the message then says which file it was).
 */
function firstRenameRefused(errno: string, args: string[]): Refused {
  const result = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', '-e', 'trace=rename,renameat,renameat2', '-e', `inject=rename,renameat,renameat2:error=${errno}:when=1`,
    process.execPath, BIN, ...args, '--json'], {encoding: 'utf8', env: {...process.env, NODE_ENV: ''}});
  return {code: result.status, error: result.stdout ? JSON.parse(result.stdout).error : undefined, stderr: result.stderr};
}

/** Every `NAME.tmp-PID` under a directory. */
function temporaries(dir: string): string[] {
  return (fs.readdirSync(dir, {recursive: true}) as string[]).filter(name => /\.tmp-\d+$/.test(name));
}

/**
 * A remote site at a path so long that the primary's link row alone takes its
 * tables past 1 KiB: under `ulimit -f 1` that save is refused, and only that one.
 */
function farRemote(root: string): string {
  const dir = path.join(root, 'a'.repeat(240), 'b'.repeat(240), 'c'.repeat(240));
  cliJson(['site', 'init', dir, '--role', 'remote', '--name', 'far']);
  return dir;
}

function refusedCleanly(t: ExecutionContext, result: Refused, file: string, cause: string): void {
  t.is(result.code, EXIT_CODES.io, result.stderr);
  t.is(result.error?.code, 'FILE_NOT_SAVED', result.error?.message);
  t.true(result.error!.message.includes(JSON.stringify(file)), `the message names ${file}: ${result.error!.message}`);
  t.true(result.error!.message.includes(cause), `the message names ${cause}: ${result.error!.message}`);
}

test('a tables write the file system refuses (EFBIG) leaves no tables.json.tmp-PID, however often it happens, and names the file and the cause', t => {
  const root = tempDir(t);
  const primary = path.join(root, 'primary');
  cliJson(['site', 'init', primary, '--role', 'primary']);
  const remote = farRemote(root);
  const tables = fs.readFileSync(path.join(primary, 'tables.json'));
  t.true(tables.length < 1024);

  for (let attempt = 1; attempt <= 3; attempt++) {
    const result = underFileLimit(1, ['site', 'link', '--site', primary, '--remote', remote]);
    refusedCleanly(t, result, path.join(primary, 'tables.json'), 'EFBIG');
    t.deepEqual(temporaries(primary), [], `attempt ${attempt}`);
  }
  t.true(fs.readFileSync(path.join(primary, 'tables.json')).equals(tables), 'the tables are as they were');
});

test('a rename of new tables the file system refuses (ENOSPC) leaves no temporary and names the file', t => {
  const {primary} = twoSites(t);
  createVolume(primary, '1M');
  const tables = path.join(primary, 'tables.json');
  const before = fs.readFileSync(tables);

  const result = firstRenameRefused('ENOSPC', ['volume', 'create', '--site', primary, '--size', '1M']);
  refusedCleanly(t, result, tables, 'ENOSPC');
  t.deepEqual(temporaries(primary), []);
  t.true(fs.readFileSync(tables).equals(before));
});

test('a pair bitmap the file system refuses (EFBIG) leaves no pair-N.bitmap.tmp-PID', t => {
  const {primary, remote} = twoSites(t);
  // A 1 GiB M-VOL in 64 KiB chunks: a bitmap of 2 KiB and more, tables well below that.
  createVolume(primary, '1G');
  createVolume(remote, '1G');

  const result = underFileLimit(2, ['pair', 'create', '--site', primary, '--mvol', '0', '--rvol', '0']);
  t.is(result.code, EXIT_CODES.io, result.stderr);
  t.is(result.error?.code, 'FILE_NOT_SAVED');
  t.regex(result.error!.message, /pair-0001\.bitmap/);
  t.deepEqual(temporaries(primary), []);
  t.deepEqual(temporaries(remote), []);
  // Room again: the same command goes through.
  t.is(cliJson(['pair', 'create', '--site', primary, '--mvol', '0', '--rvol', '0']).state, 'PAIR');
});
