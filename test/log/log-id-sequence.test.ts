import test from 'ava';
import {loggingSites, logStatus} from '../helpers/logging.js';

test('Fig. 8: two pairs in one log group share one log ID sequence, so writes to both M-VOLs get consecutive log IDs', t => {
  const {remote, host, members, group} = loggingSites(t, {pairs: 2});
  const [a, b] = members;

  const writes = [
    host.writeRandom(a.mvol, 0, 512),
    host.writeRandom(b.mvol, 4096, 512),
    host.writeRandom(b.mvol, 70_000, 1000),
    host.writeRandom(a.mvol, 200_000, 3),
  ];
  const mark = host.mark('two-volumes');
  const last = host.writeRandom(b.mvol, 0, 100);

  t.deepEqual(writes.map(w => w.logged), [1, 2, 3, 4].map(logId => [{group, logId}]));
  t.is(mark.logId, 5, 'the mark takes the next log ID of the same sequence');
  t.deepEqual(last.logged, [{group, logId: 6}]);
  const status = logStatus(remote, group);
  t.is(status.logIds.oldestLogId, 1);
  t.is(status.logIds.newestLogId, 6);
  t.is(status.usage.records, 6);
  t.deepEqual(status.logVolumes.length, 1, 'both pairs log into the one log volume of the group');
});
