// Conventions administrators rely on without reading our docs (issue 12, items 7, 9,
// 10, 11): NO_COLOR, times without a zone, SI and IEC sizes, topic help.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {BIN, cli, cliJson} from '../helpers/cli.js';
import {createVolume, tempDir} from '../helpers/sites.js';
import {loggingSites} from '../helpers/logging.js';

/** Runs the CLI with a pseudo-terminal as stdout (util-linux `script`), as a person at a shell would. */
function onTerminal(args: string[], env: NodeJS.ProcessEnv): string {
  const line = [process.execPath, BIN, ...args].map(a => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  // The person's terminal, not the test runner's: CI=true or TERM=dumb (as CI sets them)
  // are what a colour library rightly reads as "no colour here".
  const clean: NodeJS.ProcessEnv = {...process.env, TERM: 'xterm-256color'};
  for (const name of ['FORCE_COLOR', 'NO_COLOR', 'CI', 'CONTINUOUS_INTEGRATION', 'BUILD_NUMBER', 'RUN_ID', 'GITHUB_ACTIONS', 'COLORTERM']) delete clean[name];
  const result = spawnSync('script', ['-qec', line, '/dev/null'], {env: {...clean, ...env}, encoding: 'utf8'});
  if (result.status !== 0) throw new Error(`script exited ${result.status}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

const ESC = '\u001b[';

test('colour on a terminal, none with NO_COLOR (no-color.org), none when stdout is not a terminal', t => {
  const dir = path.join(tempDir(t), 'tokyo');
  cliJson(['site', 'init', dir, '--role', 'primary']);
  t.true(onTerminal(['site', 'show', '--site', dir], {}).includes(ESC), 'a terminal gets colour');
  const plain = onTerminal(['site', 'show', '--site', dir], {NO_COLOR: '1'});
  t.false(plain.includes(ESC), 'NO_COLOR=1 turns colour off');
  t.true(plain.includes('tokyo'));
  t.false(onTerminal(['site', 'show', '--site', dir], {NO_COLOR: '1', FORCE_COLOR: '1'}).includes(ESC), 'NO_COLOR wins over FORCE_COLOR');
  t.false(cli(['site', 'show', '--site', dir], {env: {FORCE_COLOR: undefined}}).stdout.includes(ESC), 'a pipe gets no colour');
});

test('Fig. 23: restore --time without a zone is UTC, as mark list prints: the same text picks the same mark under any TZ', t => {
  const sites = loggingSites(t);
  const {host, remote, group} = sites;
  host.writeRandom(sites.members[0].mvol, 0, 4096);
  host.mark('first');
  const second = host.mark('second');
  const utcText = second.time.replace(/Z$/, '');
  for (const TZ of ['UTC', 'Asia/Tokyo', 'America/New_York']) {
    const result = cli(['restore', '--site', remote, '--group', String(group), '--time', utcText, '--to', path.join(sites.root, `x-${TZ.replace('/', '-')}.img`), '--dry-run', '--json'], {env: {TZ}});
    t.is(result.code, 0, `TZ=${TZ}: ${result.stderr}${result.stdout}`);
    t.is(JSON.parse(result.stdout).markId, second.markId, `TZ=${TZ} picks mark ${second.markId}`);
  }
  const bad = cli(['restore', '--site', remote, '--group', String(group), '--time', 'yesterday at noon', '--to', path.join(sites.root, 'y.img'), '--json']);
  t.is(bad.code, 2);
  t.is(JSON.parse(bad.stdout).error.code, 'INVALID_ARGUMENT');
});

test('volume create: 100MiB and 100M are powers of 1024, 1GB is 10^9 bytes, and 100MB (not whole sectors) is refused with the IEC spelling as a hint', t => {
  const dir = path.join(tempDir(t), 'tokyo');
  cliJson(['site', 'init', dir, '--role', 'primary']);
  const sizeOf = (ldev: number) => cliJson<{volumes: {ldev: number; capacity: number}[]}>(['volume', 'list', '--site', dir]).volumes.find(v => v.ldev === ldev)!.capacity;
  t.is(sizeOf(createVolume(dir, '100MiB')), 100 * 2 ** 20);
  t.is(sizeOf(createVolume(dir, '100M')), 100 * 2 ** 20);
  t.is(sizeOf(createVolume(dir, '1GB')), 1e9);
  t.is(sizeOf(createVolume(dir, '64kB')), 64_000);
  const before = fs.readdirSync(path.join(dir, 'volumes')).sort();
  const refused = cli(['volume', 'create', '--site', dir, '--size', '100MB']);
  t.is(refused.code, 2);
  t.is(refused.stderr.trim().split('\n').length, 1);
  t.regex(refused.stderr, /100,000,000 bytes/);
  t.regex(refused.stderr, /100MiB/);
  t.deepEqual(fs.readdirSync(path.join(dir, 'volumes')).sort(), before, 'nothing created');
});

test('marklog --help describes each topic in its own words, not with a subcommand\'s summary', t => {
  const manifest = JSON.parse(fs.readFileSync(new URL('../../../oclif.manifest.json', import.meta.url), 'utf8')) as {commands: Record<string, {summary?: string}>};
  const help = cli(['--help'], {env: {COLUMNS: '500'}}).stdout;
  for (const topic of ['site', 'volume', 'pair', 'log', 'heartbeat']) {
    const described = new RegExp(`^\\s+${topic}\\s{2,}(.+)$`, 'm').exec(help)?.[1].trim();
    t.truthy(described, `${topic} is listed with a description`);
    const summaries = Object.entries(manifest.commands).filter(([id]) => id.startsWith(`${topic}:`)).map(([, c]) => c.summary);
    t.true(summaries.length > 0);
    t.false(summaries.includes(described), `${topic}: "${described}" is a subcommand's summary`);
  }
  t.regex(cli(['log', '--help']).stdout, /^Log groups/);
});
