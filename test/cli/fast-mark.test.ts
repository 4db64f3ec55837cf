import test from 'ava';
import {cli, cliJson} from '../helpers/cli.js';
import {createVolume, twoSites} from '../helpers/sites.js';

function loggingPrimary(t: Parameters<typeof twoSites>[0]): string {
  const {primary, remote} = twoSites(t);
  createVolume(primary, '1M');
  createVolume(remote, '1M');
  createVolume(remote, '1M', ['--pool']);
  cliJson(['pair', 'create', '--site', primary, '--mvol', '0', '--rvol', '0']);
  cliJson(['log', 'start', '--site', primary, '--pairs', '1', '--group', '3']);
  return primary;
}

const oclif = {MARKLOG_NO_FAST_PATH: '1'};
const env = {NODE_ENV: undefined};

test('mark answers the same through its fast path and through oclif', t => {
  const primary = loggingPrimary(t);
  const fast = JSON.parse(cli(['mark', '--site', primary, '--app', 'cron', '--json'], {env}).stdout);
  const slow = JSON.parse(cli(['mark', '--site', primary, '--app', 'cron', '--json'], {env: {...env, ...oclif}}).stdout);
  t.deepEqual(Object.keys(fast), Object.keys(slow));
  t.like(fast, {markId: 1, app: 'cron', group: 3, warnings: []});
  t.like(slow, {markId: 2, app: 'cron', group: 3, warnings: []});
  const human = cli(['mark', `--site=${primary}`, '--group=3', '--app', 'cron'], {env});
  t.is(human.code, 0);
  t.is(human.stdout, '3\n');
  t.is(cli(['mark', '--app', 'env'], {env: {...env, MARKLOG_SITE: primary}}).stdout, '4\n', 'MARKLOG_SITE stands for --site');
});

test('mark errors are the same through its fast path and through oclif', t => {
  const primary = loggingPrimary(t);
  for (const args of [['--group', '9'], ['--app', 'bad\u0001name']]) {
    const fast = cli(['mark', '--site', primary, ...args, '--json'], {env});
    const slow = cli(['mark', '--site', primary, ...args, '--json'], {env: {...env, ...oclif}});
    t.is(fast.code, slow.code);
    t.deepEqual(JSON.parse(fast.stdout), JSON.parse(slow.stdout));
    const line = cli(['mark', '--site', primary, ...args], {env});
    t.regex(line.stderr, /^marklog: [^\n]+\n$/);
  }
  const malformed = cli(['mark', '--site', primary, '--group', 'x', '--json'], {env});
  t.is(malformed.code, 2, 'what the fast path does not parse goes to oclif');
  t.is(JSON.parse(malformed.stdout).error.code, 'USAGE');
  t.regex(cli(['mark', '--help'], {env}).stdout, /USAGE/);
});
