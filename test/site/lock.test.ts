import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {EXIT_CODES} from '../../src/errors.js';
import {cli} from '../helpers/cli.js';
import {exited, firstLine, helperProgram, killIfRunning} from '../helpers/processes.js';
import {snapshot, twoSites} from '../helpers/sites.js';

/** A process of its own holding `<site>/lock`; `held` resolves once it has it. */
function holdLock(t: ExecutionContext, site: string, holdMs?: number) {
  const holder = helperProgram('lock-holder', [path.join(site, 'lock'), ...(holdMs ? [String(holdMs)] : [])]);
  t.teardown(() => killIfRunning(holder));
  return {holder, exit: exited(holder), held: firstLine(holder)};
}

function timed(args: string[], env: NodeJS.ProcessEnv = {}) {
  const start = Date.now();
  const result = cli(args, {env});
  return {...result, ms: Date.now() - start};
}

test.serial('a process holding the site lock that is killed with SIGKILL does not block the next command', async t => {
  const {primary} = twoSites(t);
  const {holder, exit, held} = holdLock(t, primary);
  t.is(await held, 'held');
  // While it lives, it really holds the lock.
  const blocked = timed(['volume', 'create', '--site', primary, '--size', '1M', '--json'], {MARKLOG_LOCK_TIMEOUT_MS: '200'});
  t.is(blocked.code, EXIT_CODES.lock);

  holder.kill('SIGKILL');
  t.is((await exit).signal, 'SIGKILL');

  // Not allowed to wait at all: the command gets the lock only if the dead process left none behind.
  const next = cli(['volume', 'create', '--site', primary, '--size', '1M', '--json'], {env: {MARKLOG_LOCK_TIMEOUT_MS: '0'}});
  t.is(next.code, 0, next.stderr);
  t.is(JSON.parse(next.stdout).ldev, 0);
});

test.serial('a live lock holder makes a command wait, then fail with LOCK_HELD (exit 5) and change nothing', async t => {
  const {root, primary} = twoSites(t);
  const {held} = holdLock(t, primary);
  t.is(await held, 'held');
  const before = snapshot(root);

  const json = timed(['volume', 'create', '--site', primary, '--size', '1M', '--json'], {MARKLOG_LOCK_TIMEOUT_MS: '600'});
  t.is(json.code, EXIT_CODES.lock);
  t.is(JSON.parse(json.stdout).error.code, 'LOCK_HELD');
  t.true(json.ms >= 600, `gave up after ${json.ms} ms`);

  const human = timed(['pair', 'create', '--site', primary, '--mvol', '0', '--rvol', '0'], {MARKLOG_LOCK_TIMEOUT_MS: '300'});
  t.is(human.code, EXIT_CODES.lock);
  t.regex(human.stderr, /^marklog: [^\n]*\n$/);
  t.is(human.stdout, '');

  t.deepEqual(snapshot(root), before);
});

test.serial('a command waits for a live holder that lets go, then succeeds', async t => {
  const {primary} = twoSites(t);
  // Taken before the holder starts: it lets go at least 1.5 s after this, however slow the machine.
  const since = Date.now();
  const {holder, held} = holdLock(t, primary, 1500);
  t.is(await held, 'held');
  const released = firstLine(holder);

  const waited = timed(['volume', 'create', '--site', primary, '--size', '1M', '--json'], {MARKLOG_LOCK_TIMEOUT_MS: '20000'});
  t.is(waited.code, 0, waited.stderr);
  t.true(Date.now() - since >= 1500, `returned ${Date.now() - since} ms after the holder started`);
  t.is(await released, 'released');
});
