import test from 'ava';
import {digest, imageBytes, loggingSites} from '../helpers/logging.js';
import {imagePath, randomBytes, sha256} from '../helpers/sites.js';
import {chunksTouched, pairView, readAt} from '../helpers/volumes.js';

test('Figs. 16, 19: a write in log mode lands on the M-VOL, sets the pair bitmap, and leaves the R-VOL as the frozen base', t => {
  const {primary, remote, host, members, group} = loggingSites(t);
  const [{pair, mvol, rvol}] = members;
  const frozenBase = sha256(imagePath(remote, rvol));
  t.is(frozenBase, digest(host.now(mvol)), 'at log start the R-VOL holds what the M-VOL held');
  t.is(pairView(primary, pair).dirtyChunks, 0);

  const ranges = [
    {offset: 0, length: 100},
    {offset: 65_536 - 10, length: 20},
    {offset: 5 * 65_536 + 7, length: 3 * 65_536},
  ];
  const logIds: number[] = [];
  for (const {offset, length} of ranges) {
    const data = randomBytes(length);
    const result = host.write(mvol, offset, data);
    t.is(result.logged.length, 1);
    t.is(result.logged[0].group, group);
    logIds.push(result.logged[0].logId);
    t.true(readAt(primary, mvol, offset, length).equals(data), `the write at ${offset} reads back from the M-VOL`);
  }

  t.deepEqual(logIds, [1, 2, 3]);
  t.is(digest(imageBytes(imagePath(primary, mvol))), digest(host.now(mvol)));
  const view = pairView(primary, pair);
  t.is(view.state, 'PSUS');
  t.is(view.dirtyChunks, chunksTouched(ranges, view.chunkSize));
  t.is(sha256(imagePath(remote, rvol)), frozenBase, 'the R-VOL did not change');
});
