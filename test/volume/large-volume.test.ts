import test, {type ExecutionContext} from 'ava';
import {cliJson} from '../helpers/cli.js';
import {createVolume, imagePath, randomBytes, twoSites} from '../helpers/sites.js';
import {allocatedBytes, chunksTouched, imageBytes, pairView, readAt, writeFileAt} from '../helpers/volumes.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const CHUNK = 64 * 1024;

interface Written {
  offset: number;
  data: Buffer;
}

/** The bytes are where they belong: through `marklog read`, and in the raw image file itself. */
function holds(t: ExecutionContext, site: string, ldev: number, writes: Written[]) {
  for (const {offset, data} of writes) {
    t.deepEqual(readAt(site, ldev, offset, data.length), data, `marklog read at ${offset}`);
    t.deepEqual(imageBytes(imagePath(site, ldev), offset, data.length), data, `image file at ${offset}`);
  }
}

test('a sparse 6 GiB volume pairs, copies only its data and resyncs only its dirty chunks past 4 GiB', t => {
  const {primary, remote} = twoSites(t);
  const mvol = createVolume(primary, '6G');
  const rvol = createVolume(remote, '6G');
  t.is(cliJson(['volume', 'list', '--site', primary]).volumes[0].capacity, 6 * GiB);

  // Data far past 4 GiB, and one write across the 4 GiB boundary (and a 64 MiB window edge).
  const at5G = {offset: 5 * GiB + 12_345, data: randomBytes(MiB + 777)};
  const across4G = {offset: 4 * GiB - 3000, data: randomBytes(10_000)};
  writeFileAt(primary, mvol, at5G.offset, at5G.data);
  holds(t, primary, mvol, [at5G]);
  // Nothing landed 4 GiB lower, where a 32-bit offset would put it.
  t.deepEqual(imageBytes(imagePath(primary, mvol), at5G.offset - 4 * GiB, 4096), Buffer.alloc(4096), 'no write aliased to 1 GiB');
  writeFileAt(primary, mvol, across4G.offset, across4G.data);
  holds(t, primary, mvol, [across4G]);

  const created = cliJson(['pair', 'create', '--site', primary, '--mvol', String(mvol), '--rvol', String(rvol)]);
  t.is(created.state, 'PAIR');
  const written = [at5G, across4G].map(w => ({offset: w.offset, length: w.data.length}));
  t.true(created.copiedBytes >= chunksTouched(written, CHUNK) * CHUNK, `copied ${created.copiedBytes} bytes`);
  t.true(created.copiedBytes <= 8 * MiB, `copied ${created.copiedBytes} bytes of a volume holding about 1 MiB`);
  holds(t, remote, rvol, [at5G, across4G]);
  t.deepEqual(imageBytes(imagePath(remote, rvol), 3 * GiB, 4096), Buffer.alloc(4096), 'the holes read as zeros on the R-VOL');
  t.true(allocatedBytes(imagePath(remote, rvol)) <= 16 * MiB, `the R-VOL holds ${allocatedBytes(imagePath(remote, rvol))} bytes on disk`);

  // Suspend, change three regions past 5 GiB (one across two chunks), resync.
  cliJson(['pair', 'suspend', '--site', primary, '--pair', '1']);
  const changes = [
    {offset: 5 * GiB + 100 * MiB, data: randomBytes(4096)},
    {offset: 5 * GiB + 200 * MiB + CHUNK - 100, data: randomBytes(300)},
    {offset: 6 * GiB - 512, data: randomBytes(512)},
  ];
  for (const {offset, data} of changes) writeFileAt(primary, mvol, offset, data);
  const dirty = chunksTouched(changes.map(c => ({offset: c.offset, length: c.data.length})), CHUNK);
  t.is(dirty, 4);
  t.is(pairView(primary, 1).dirtyChunks, dirty);

  const resync = cliJson(['pair', 'resync', '--site', primary, '--pair', '1']);
  t.is(resync.state, 'PAIR');
  t.is(resync.copiedBytes, dirty * CHUNK);
  holds(t, remote, rvol, [...changes, at5G, across4G]);
  t.true(allocatedBytes(imagePath(remote, rvol)) <= 16 * MiB);
});
