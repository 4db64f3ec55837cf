import test from 'ava';
import {cliJson} from '../helpers/cli.js';
import {cliFailure, loggingSites, markList} from '../helpers/logging.js';
import {snapshot} from '../helpers/sites.js';

test('Fig. 18A: a mark before log start fails with WRONG_LOG_MODE and changes nothing', t => {
  const {primary, remote} = loggingSites(t, {start: false});
  const before = {primary: snapshot(primary), remote: snapshot(remote)};

  const failure = cliFailure(['mark', '--site', primary, '--group', '1', '--app', 'too-early']);

  t.is(failure.code, 'WRONG_LOG_MODE');
  t.is(failure.exitCode, 4);
  t.deepEqual(snapshot(primary), before.primary);
  t.deepEqual(snapshot(remote), before.remote);
});

test('Fig. 18A: a mark for a group that is not in log mode fails with WRONG_LOG_MODE; the logging group keeps its marks', t => {
  const {primary, remote, host, group} = loggingSites(t, {group: 1});
  host.mark('db');
  const before = {primary: snapshot(primary), remote: snapshot(remote)};

  const failure = cliFailure(['mark', '--site', primary, '--group', '2', '--app', 'wrong-group']);

  t.is(failure.code, 'WRONG_LOG_MODE');
  t.is(failure.exitCode, 4);
  t.deepEqual(snapshot(primary), before.primary);
  t.deepEqual(snapshot(remote), before.remote);
  t.deepEqual(markList(remote, group).map(m => m.markId), [1]);
});

test('Fig. 18A: after log stop a mark for the group fails with WRONG_LOG_MODE', t => {
  const {primary, remote, host, group} = loggingSites(t);
  host.mark('db');
  cliJson(['log', 'stop', '--site', primary, '--group', String(group)]);

  const failure = cliFailure(['mark', '--site', primary, '--group', String(group), '--app', 'after-stop']);

  t.is(failure.code, 'WRONG_LOG_MODE');
  t.is(failure.exitCode, 4);
  t.deepEqual(markList(remote, group).map(m => m.markId), [1]);
});
