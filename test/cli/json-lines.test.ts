// docs/LOGGING.md's cron recipe appends `mark --json` to a .jsonl file: off a terminal
// every --json document is one line, so the file is JSON Lines (issue 12, item 8).
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {BIN} from '../helpers/cli.js';
import {loggingSites} from '../helpers/logging.js';

test('cron recipe: marks appended with --json (fast path and full CLI) and an error make a JSON Lines file; a terminal gets indented JSON', t => {
  const sites = loggingSites(t);
  const file = path.join(sites.root, 'marks.jsonl');
  const appendRun = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const fd = fs.openSync(file, 'a');
    try {
      return spawnSync(process.execPath, [BIN, ...args], {stdio: ['ignore', fd, 'pipe'], env: {...process.env, MARKLOG_SITE: sites.primary, ...env}}).status;
    } finally {
      fs.closeSync(fd);
    }
  };
  t.is(appendRun(['mark', '--app', 'cron-5min', '--json']), 0);
  t.is(appendRun(['mark', '--app', 'cron-5min', '--json'], {MARKLOG_NO_FAST_PATH: '1'}), 0);
  t.is(appendRun(['mark', 'list', '--json']), 0);
  t.not(appendRun(['mark', '--group', '9', '--json']), 0);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  t.is(lines.pop(), '', 'the file ends with a newline');
  t.is(lines.length, 4, 'one line per document');
  const docs = lines.map(line => JSON.parse(line));
  t.deepEqual(docs.slice(0, 2).map(d => d.markId), [1, 2]);
  t.is(docs[3].error.code, 'WRONG_LOG_MODE');

  const line = [process.execPath, BIN, 'mark', 'list', '--json'].map(a => `'${a}'`).join(' ');
  const terminal = spawnSync('script', ['-qec', line, '/dev/null'], {env: {...process.env, MARKLOG_SITE: sites.primary}, encoding: 'utf8'});
  t.is(terminal.status, 0, terminal.stderr);
  t.true(terminal.stdout.split('\n').length > 5, 'indented for a person');
});
