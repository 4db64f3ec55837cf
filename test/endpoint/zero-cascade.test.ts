// A cascade (primary → remote → third site): the remote's R-VOL is the M-VOL of the
// remote's own pair. Pair create and resync send a run of holes of the M-VOL as a
// zeroing of the R-VOL (src/pair/copy.ts), not as bytes; the remote must pass that
// zeroing on to its own pairs exactly as it passes on a replicated write, or the
// third site keeps bytes the other two no longer have.
import test from 'ava';
import {linkOf} from '../../src/site/link-opener.js';
import {Site} from '../../src/site/site.js';
import {Journal} from '../../src/log/journal.js';
import {cliJson} from '../helpers/cli.js';
import {createVolume, imagePath, randomBytes, sha256, tempDir, threeSites} from '../helpers/sites.js';
import {pairView, readAt, writeFileAt} from '../helpers/volumes.js';
import {WireClient} from '../helpers/wire-client.js';

const KiB = 1024;

/** True when every byte is zero (a boolean, so a failure does not print megabytes). */
function allZero(bytes: Buffer): boolean {
  return bytes.every(b => b === 0);
}
const CAPACITY = 4 * 1024 * KiB;

interface Cascade {
  primary: string;
  remote: string;
  third: string;
  rvol: number;
  far: number;
  /** The remote's own pair: the R-VOL as its M-VOL, `far` at the third site as its R-VOL. */
  cascadePair: number;
}

/** Three sites, data in the first MiB of the M-VOL, both pairs in PAIR (through the CLI). */
function cascade(t: Parameters<typeof tempDir>[0]): Cascade {
  const {primary, remote, third} = threeSites(t);
  const mvol = createVolume(primary, '4M');
  const rvol = createVolume(remote, '4M');
  const far = createVolume(third, '4M');
  writeFileAt(primary, mvol, 0, randomBytes(1024 * KiB));
  cliJson(['pair', 'create', '--site', primary, '--mvol', String(mvol), '--rvol', String(rvol)]);
  const {pair, state} = cliJson(['pair', 'create', '--site', remote, '--mvol', String(rvol), '--rvol', String(far)]);
  t.is(state, 'PAIR');
  return {primary, remote, third, rvol, far, cascadePair: pair};
}

/** What the primary's copy sends for a run of holes: zeroRvol on its link to the remote. */
async function zeroRvolFromPrimary(primaryDir: string, rvol: number, offset: number, length: number): Promise<void> {
  const primary = Site.open(primaryDir);
  try {
    await (await linkOf(primary, primary.tables())).zeroRvol(rvol, offset, length);
  } finally {
    primary.close();
  }
}

test('cascade in PAIR: a zeroing of the R-VOL reaches the third site before it is answered, as a replicated write does', async t => {
  const sites = cascade(t);
  await zeroRvolFromPrimary(sites.primary, sites.rvol, 64 * KiB, 256 * KiB);

  t.true(allZero(readAt(sites.remote, sites.rvol, 64 * KiB, 256 * KiB)));
  t.true(allZero(readAt(sites.third, sites.far, 64 * KiB, 256 * KiB)));
  t.is(sha256(imagePath(sites.third, sites.far)), sha256(imagePath(sites.remote, sites.rvol)));
  const view = pairView(sites.remote, sites.cascadePair);
  t.is(view.state, 'PAIR');
  t.is(view.dirtyChunks, 0);
});

test('cascade suspended (PSUS): the zeroing sets the remote pair\'s bits, and its resync carries the zeros to the third site', async t => {
  const sites = cascade(t);
  cliJson(['pair', 'suspend', '--site', sites.remote, '--pair', String(sites.cascadePair)]);
  await zeroRvolFromPrimary(sites.primary, sites.rvol, 0, 128 * KiB);

  t.is(pairView(sites.remote, sites.cascadePair).dirtyChunks, 2, 'chunks 0 and 1 differ from the third site now');
  t.false(allZero(readAt(sites.third, sites.far, 0, 128 * KiB)), 'a suspended pair sends nothing');
  t.is(cliJson(['pair', 'resync', '--site', sites.remote, '--pair', String(sites.cascadePair)]).state, 'PAIR');
  t.true(allZero(readAt(sites.third, sites.far, 0, 128 * KiB)));
  t.is(sha256(imagePath(sites.third, sites.far)), sha256(imagePath(sites.remote, sites.rvol)));
});

test('over marklog agent, a whole-volume zeroing of the R-VOL cascades to the third site too', async t => {
  const sites = cascade(t);
  const client = new WireClient(sites.remote);
  t.teardown(() => {
    if (client.child.exitCode === null) client.child.kill('SIGKILL');
  });
  await client.hello();
  await client.call('zeroRvol', {ldev: sites.rvol, offset: 0, length: CAPACITY});

  t.true(allZero(readAt(sites.third, sites.far, 0, CAPACITY)));
  t.is(pairView(sites.remote, sites.cascadePair).state, 'PAIR');
});

/** The records of a log group at `dir` that change a volume, as ranges (a write of all zeros is stored as a zero record). */
function loggedRanges(dir: string, group: number): {kind: string; ldev: number; address: number; length: number}[] {
  const site = Site.open(dir);
  try {
    const tables = site.tables();
    const journal = Journal.open(site, tables, tables.groups.find(g => g.group === group)!);
    return [...journal.records()].flatMap(({record}) => {
      if (record.kind === 'zero') return [{kind: 'zero', ldev: record.ldev, address: record.address, length: record.length}];
      if (record.kind === 'write') return [{kind: allZero(Buffer.from(record.data)) ? 'zero' : 'write', ldev: record.ldev, address: record.address, length: record.data.length}];
      return [];
    });
  } finally {
    site.close();
  }
}

test('cascade logging (PSUS in a log group, Fig. 19): the zeroing is logged at the third site, whose frozen base stays as it was', async t => {
  const sites = cascade(t);
  createVolume(sites.third, '16M', ['--pool']);
  const {group} = cliJson(['log', 'start', '--site', sites.remote, '--pairs', String(sites.cascadePair)]);
  await zeroRvolFromPrimary(sites.primary, sites.rvol, 256 * KiB, 2 * 1024 * KiB);

  const logged = loggedRanges(sites.third, group);
  t.true(logged.every(r => r.kind === 'zero' && r.ldev === sites.far));
  t.deepEqual([logged[0]?.address, logged.reduce((sum, r) => sum + r.length, 0)], [256 * KiB, 2 * 1024 * KiB], 'the whole range, from its start');
  t.false(allZero(readAt(sites.third, sites.far, 256 * KiB, 64 * KiB)), 'the base is untouched');
  t.is(pairView(sites.remote, sites.cascadePair).dirtyChunks, 32, 'and tracked for resync');
});
