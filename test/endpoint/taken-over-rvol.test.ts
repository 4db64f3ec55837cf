// No split brain at the R-VOL (Fig. 22): once the remote took a volume over, the
// primary's replication must not change it, whichever method it sends. A write was
// refused with TAKEN_OVER; a zeroing (what pair create and resync send for a hole of
// the M-VOL) was carried out, so a stale resync at the primary could wipe what hosts
// wrote at the remote after the takeover.
import test from 'ava';
import {TakenOverError} from '../../src/errors.js';
import {linkOf} from '../../src/site/link-opener.js';
import {Site} from '../../src/site/site.js';
import {cliJson} from '../helpers/cli.js';
import {loggingSites} from '../helpers/logging.js';
import {imagePath, sha256, writeAt} from '../helpers/sites.js';

test('after takeover, the primary\'s zeroing of a range of the R-VOL is refused as TAKEN_OVER and the bytes hosts wrote at the remote stay', async t => {
  const sites = loggingSites(t);
  const [{rvol}] = sites.members;
  sites.host.writeRandom(sites.members[0].mvol, 0, 10_000);
  sites.host.mark('db');
  cliJson(['takeover', '--site', sites.remote, '--group', String(sites.group), '--mark', 'latest']);
  writeAt(sites.remote, rvol, 4096, Buffer.from('written at the remote during the outage'));
  const before = sha256(imagePath(sites.remote, rvol));

  const primary = Site.open(sites.primary);
  t.teardown(() => primary.close());
  const link = await linkOf(primary, primary.tables());
  await t.throwsAsync(link.writeRvol(rvol, 0, Buffer.alloc(4096)), {instanceOf: TakenOverError});
  await t.throwsAsync(link.zeroRvol(rvol, 0, 64 * 1024), {instanceOf: TakenOverError});
  t.is(sha256(imagePath(sites.remote, rvol)), before, 'the taken-over R-VOL is unchanged');
});
