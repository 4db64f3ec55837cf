import fs from 'node:fs';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {cli, cliJson} from '../helpers/cli.js';
import {tempDir} from '../helpers/sites.js';
import {EXIT_CODES} from '../../src/errors.js';

// As an administrator's shell runs it, without ava's NODE_ENV=test.
const env = {NODE_ENV: undefined};
/** A name with a newline, a tab and a terminal escape (it would turn the rest of the line red). */
const HOSTILE = 'tok\nyo\tsite\u001b[31m';
/** The name as an error shows it: each control character escaped, JSON style. */
const SHOWN = JSON.stringify(HOSTILE).slice(1, -1);

/** Exactly one line on stderr, free of control characters, naming `shown`. */
function oneLineNaming(t: ExecutionContext, stderr: string, shown: string): void {
  t.true(stderr.endsWith('\n') && stderr.indexOf('\n') === stderr.length - 1, `one line: ${JSON.stringify(stderr)}`);
  t.regex(stderr, /^marklog: /);
  // eslint-disable-next-line no-control-regex
  t.notRegex(stderr.slice(0, -1), /[\u0000-\u001f\u007f-\u009f]/, 'no control character reaches the terminal');
  t.true(stderr.includes(shown), `the line names ${shown}: ${stderr}`);
}

test('a site directory whose name holds a newline, a tab and an escape: the error is one line and still names it', t => {
  const root = tempDir(t);
  const missing = path.join(root, HOSTILE);

  const result = cli(['volume', 'list', '--site', missing], {env});
  t.is(result.code, EXIT_CODES.notFound, result.stderr);
  oneLineNaming(t, result.stderr, SHOWN);

  const json = cli(['volume', 'list', '--site', missing, '--json'], {env});
  const {error} = JSON.parse(json.stdout);
  t.is(error.code, 'SITE_NOT_FOUND');
  t.true(error.message.includes(HOSTILE) || error.message.includes(SHOWN), error.message);
});

test('a site made in such a directory: errors naming it, its name or its images stay one line', t => {
  const root = tempDir(t);
  const dir = path.join(root, HOSTILE);

  const badName = cli(['site', 'init', dir, '--role', 'primary'], {env});
  t.is(badName.code, EXIT_CODES.usage, badName.stderr);
  oneLineNaming(t, badName.stderr, SHOWN);
  t.false(fs.existsSync(dir));

  cliJson(['site', 'init', dir, '--role', 'primary', '--name', 'tokyo']);
  const again = cli(['site', 'init', dir, '--role', 'primary', '--name', 'tokyo'], {env});
  t.is(again.code, EXIT_CODES.conflict, again.stderr);
  oneLineNaming(t, again.stderr, SHOWN);

  const image = path.join(dir, `no\nsuch\u001b]0;image`);
  const imported = cli(['volume', 'import', '--site', dir, image], {env});
  t.is(imported.code, EXIT_CODES.io, imported.stderr);
  oneLineNaming(t, imported.stderr, JSON.stringify(path.basename(image)).slice(1, -1));
});
