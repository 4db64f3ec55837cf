import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {tempDir} from '../helpers/sites.js';
import {initSite, linkSites} from '../../src/site/site-admin.js';
import {Site} from '../../src/site/site.js';
import {createVolume} from '../../src/volume/volume-admin.js';
import {createPair} from '../../src/pair/pair-create.js';
import {startLogging} from '../../src/log/log-start.js';
import {hostWrite} from '../../src/io/host-io.js';
import {issueMark} from '../../src/mark/mark.js';
import {restoreToMark} from '../../src/restore/restore.js';

/** A tiny deterministic generator, so a failure can be replayed from its seed. */
function prng(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('Fig. 23: every mark of a random two-volume workload restores byte for byte', async t => {
  const seed = Number(process.env.MARKLOG_TEST_SEED ?? Date.now() % 1_000_000);
  t.log(`seed ${seed}`);
  const random = prng(seed);
  const root = tempDir(t);
  initSite({dir: path.join(root, 'p'), role: 'primary'});
  initSite({dir: path.join(root, 'r'), role: 'remote'});
  await linkSites(path.join(root, 'p'), path.join(root, 'r'));
  const primary = Site.open(path.join(root, 'p'));
  const remote = Site.open(path.join(root, 'r'));
  t.teardown(() => {
    primary.close();
    remote.close();
  });

  const capacity = 4 * 1024 * 1024;
  const expected = [Buffer.alloc(capacity), Buffer.alloc(capacity)];
  const mvols = [createVolume(primary, capacity).ldev, createVolume(primary, capacity).ldev];
  const rvols = [createVolume(remote, capacity).ldev, createVolume(remote, capacity).ldev];
  createVolume(remote, 64 * 1024 * 1024, true);

  // Some data before pairing, so the base is not empty.
  for (const [i, ldev] of mvols.entries()) {
    const data = Buffer.alloc(100_000, 0x11 + i);
    await hostWrite(primary, ldev, 12_345, data);
    data.copy(expected[i], 12_345);
  }
  const pairs: number[] = [];
  for (const [i, mvol] of mvols.entries()) pairs.push((await createPair(primary, {mvol, rvol: rvols[i]})).pair);
  const {group} = await startLogging(primary, {pairs, group: 1});

  const snapshots: {markId: number; images: Buffer[]}[] = [];
  for (let step = 0; step < 120; step++) {
    if (random() < 0.12) {
      const mark = await issueMark(primary, {group, app: `step-${step}`});
      snapshots.push({markId: mark.markId, images: expected.map(image => Buffer.from(image))});
      continue;
    }
    const volume = random() < 0.5 ? 0 : 1;
    const length = 512 + Math.floor(random() ** 3 * (1024 * 1024 - 512));
    const offset = Math.floor(random() * (capacity - length));
    const data = Buffer.alloc(length);
    for (let i = 0; i < length; i += 4096) data.fill(Math.floor(random() * 256), i, Math.min(length, i + 4096));
    data.writeUInt32LE(step, 0);
    await hostWrite(primary, mvols[volume], offset, data);
    data.copy(expected[volume], offset);
  }
  snapshots.push({markId: (await issueMark(primary, {group, app: 'last'})).markId, images: expected.map(image => Buffer.from(image))});
  t.true(snapshots.length >= 5, 'the workload placed enough marks');

  const out = tempDir(t);
  for (const {markId, images} of snapshots) {
    for (const [i, rvol] of rvols.entries()) {
      const file = path.join(out, `mark-${markId}-rvol-${rvol}.img`);
      await restoreToMark(remote, {group, markId, rvol, target: {kind: 'file', path: file}});
      const restored = fs.readFileSync(file);
      t.true(restored.equals(images[i]), `volume ${i} at mark ${markId} (seed ${seed})`);
      fs.rmSync(file);
    }
  }
});
