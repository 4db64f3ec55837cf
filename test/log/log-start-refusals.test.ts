import test from 'ava';
import {cliJson} from '../helpers/cli.js';
import {cliFailure, loggingSites} from '../helpers/logging.js';
import {snapshot} from '../helpers/sites.js';
import {pairView} from '../helpers/volumes.js';

test('Fig. 16: log start refuses a group with a PSUS pair (WRONG_PAIR_STATE) and changes nothing at either site', t => {
  const {primary, remote, members} = loggingSites(t, {pairs: 2, start: false});
  cliJson(['pair', 'suspend', '--site', primary, '--pair', String(members[1].pair)]);
  const before = {primary: snapshot(primary), remote: snapshot(remote)};

  const failure = cliFailure(['log', 'start', '--site', primary, '--pairs', members.map(m => m.pair).join(','), '--group', '1']);

  t.is(failure.code, 'WRONG_PAIR_STATE');
  t.is(failure.exitCode, 4);
  t.deepEqual(snapshot(primary), before.primary);
  t.deepEqual(snapshot(remote), before.remote);
  t.is(pairView(primary, members[0].pair).state, 'PAIR', 'the PAIR pair was not suspended either');
  t.deepEqual(cliJson(['log', 'status', '--site', remote]).groups, []);
});

test('Fig. 17: log start with an empty pool at the remote fails with POOL_EMPTY and changes nothing at either site', t => {
  const {primary, remote, members} = loggingSites(t, {logSize: null, start: false});
  const before = {primary: snapshot(primary), remote: snapshot(remote)};

  const failure = cliFailure(['log', 'start', '--site', primary, '--pairs', String(members[0].pair), '--group', '1']);

  t.is(failure.code, 'POOL_EMPTY');
  t.is(failure.exitCode, 4);
  t.deepEqual(snapshot(primary), before.primary);
  t.deepEqual(snapshot(remote), before.remote);
  t.is(pairView(primary, members[0].pair).state, 'PAIR');
  t.deepEqual(cliJson(['log', 'status', '--site', remote]).groups, []);
});
