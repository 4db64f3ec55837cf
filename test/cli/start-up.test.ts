// Start-up (issue 12, item 17): every command runs from its own bundle without
// loading oclif; oclif is still there for help and for the messages of malformed
// input. A module hook that refuses to resolve @oclif/core proves which path ran.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type {FlagSpec} from '../../src/cli/command-spec.js';
import {COMMANDS} from '../../commands/index.js';
import {BIN, cli, cliJson} from '../helpers/cli.js';
import {tempDir} from '../helpers/sites.js';

const TRIPWIRE = 'oclif was loaded';
const hooks = `export async function resolve(specifier, context, next) {
  if (specifier === '@oclif/core' || specifier.startsWith('@oclif/core/')) throw new Error(${JSON.stringify(TRIPWIRE)});
  return next(specifier, context);
}`;
const register = `import {register} from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
const tripwire = `data:text/javascript,${encodeURIComponent(register)}`;

function runGuarded(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, ['--import', tripwire, BIN, ...args], {
    cwd, input: '', timeout: 10_000, encoding: 'utf8', env: {...process.env, MARKLOG_LINK_RETRIES: '1', ...env},
  });
  return {code: result.status, stdout: result.stdout, stderr: result.stderr};
}

/** Commands whose line is written out: they take an argument, or would run on. */
function specialLine(id: string, site: string, dir: string): string[] | undefined {
  const lines: Record<string, string[]> = {
    'site init': [path.join(dir, 'another'), '--role', 'remote'],
    'volume import': [path.join(dir, 'no-such.img'), '--site', site],
    serve: ['--listen', 'not-an-address'],
    'log import': [path.join(dir, 'no-such.dmlog'), '--vol', '0', '--format', 'dm-log-writes'],
    'heartbeat serve': ['--listen', path.join(dir, 'no-such-dir', 'heartbeat'), '--interval', '10'],
    'heartbeat watch': ['--main', path.join(dir, 'heartbeat'), '--max-time', '50', '--interval', '10'],
    demo: ['--dir', site],
  };
  return lines[id] && [...id.split(' '), ...lines[id]];
}

test('a well-formed command line of every command runs without loading oclif, and says what it says through oclif too', async t => {
  const dir = tempDir(t);
  const site = path.join(dir, 'tokyo');
  cliJson(['site', 'init', site, '--role', 'primary']);
  const ran: string[] = [];
  for (const [id, load] of Object.entries(COMMANDS)) {
    const spec = (await load()).default;
    // The others get each required flag with a value of the right kind; it need not make sense to the site.
    const line = specialLine(id, site, dir) ?? id.split(' ');
    if (!specialLine(id, site, dir)) {
      for (const [name, flagSpec] of Object.entries(spec.flags as Record<string, FlagSpec>)) {
        if (!('required' in flagSpec && flagSpec.required) || flagSpec.env) continue;
        const value = flagSpec.kind === 'integer' ? String(Math.max(flagSpec.min ?? 0, 1)) : flagSpec.kind === 'string' && flagSpec.options ? flagSpec.options[0] : '0';
        line.push(`--${name}`, value);
      }
    }
    const quick = runGuarded([...line, ...(spec.jsonFlag === false ? [] : ['--json'])], dir, {MARKLOG_SITE: site});
    t.false(quick.stderr.includes(TRIPWIRE), `${line.join(' ')}: ${quick.stderr}`);
    if (spec.jsonFlag !== false && id !== 'site init' && id !== 'volume create') {
      t.not(JSON.parse(quick.stdout).error?.code, 'USAGE', `${line.join(' ')} is well formed`);
      // The same line through oclif: the same exit code and, for an error, the same code and message.
      const full = cli([...line, '--json'], {env: {MARKLOG_SITE: site, MARKLOG_NO_FAST_PATH: '1'}});
      t.is(quick.code, full.code, `${line.join(' ')}: the quick path and oclif exit alike`);
      if (quick.code !== 0) t.deepEqual(JSON.parse(quick.stdout), JSON.parse(full.stdout), line.join(' '));
    }
    ran.push(id);
  }
  t.deepEqual(ran.sort(), Object.keys(COMMANDS).sort());
  t.true(fs.existsSync(path.join(dir, 'another', 'tables.json')), 'site init ran on the quick path');
});

test('help, --version and malformed input go to oclif: its help, its version line, its usage errors', t => {
  const dir = tempDir(t);
  t.true(runGuarded(['pair', 'display', '--help'], dir).stderr.includes(TRIPWIRE), 'help loads oclif');
  t.regex(cli(['pair', 'display', '--help']).stdout, /USAGE\n {2}\$ marklog pair display/);
  t.regex(cli([]).stdout, /TOPICS|COMMANDS/);
  const version = runGuarded(['--version'], dir);
  t.is(version.code, 0);
  t.is(version.stdout, cli(['--version'], {env: {MARKLOG_NO_FAST_PATH: '1'}}).stdout, 'the version line is oclif\'s');
  for (const args of [['pair', 'display', '--site', dir, '--pair', 'x', '--json'], ['volume', 'create', '--site', dir, '--json'], ['mark', '--site', dir, '--bogus', '--json']]) {
    const result = cli(args);
    t.is(result.code, 2, args.join(' '));
    t.is(JSON.parse(result.stdout).error.code, 'USAGE', args.join(' '));
  }
});
