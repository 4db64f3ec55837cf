import test from 'ava';
import {librarySites} from '../helpers/library-sites.js';
import {snapshot} from '../helpers/sites.js';
import {createVolume} from '../../src/volume/volume-admin.js';
import {InvalidArgumentError} from '../../src/errors.js';

test('the library refuses a capacity the tables could not hold (not whole sectors), before touching the site', async t => {
  const {p, primary} = await librarySites(t);
  const before = snapshot(p);
  for (const capacity of [1000, 0, -512, 512.5, 2 ** 51]) {
    const error = t.throws(() => createVolume(primary, capacity), {instanceOf: InvalidArgumentError});
    t.regex(error!.message, /capacity/);
  }
  t.deepEqual(snapshot(p), before);
  // And the site still opens: a bad row would have made every later command fail.
  t.is(createVolume(primary, 4096).capacity, 4096);
});
