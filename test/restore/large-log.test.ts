// Issue 13, item 2: a restore plans a long log in bounded memory. Past PLAN_PIECES
// write records the plan is made range by range of the volume, and past a few
// chunks the write list goes to a scratch file; a log long enough for both must
// restore every mark byte for byte, in both log formats, and leave no scratch file.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {librarySites} from '../helpers/library-sites.js';
import {tempDir} from '../helpers/sites.js';
import {createVolume} from '../../src/volume/volume-admin.js';
import {createPair} from '../../src/pair/pair-create.js';
import {startLogging} from '../../src/log/log-start.js';
import {HostWriter} from '../../src/io/host-writer.js';
import {issueMark} from '../../src/mark/mark.js';
import {restoreToMark} from '../../src/restore/restore.js';
import {LogScan} from '../../src/restore/scan.js';
import {Journal} from '../../src/log/journal.js';
import {findGroup} from '../../src/log/remote-log.js';
import {PLAN_PIECES} from '../../src/restore/replay.js';
import {Rng} from '../helpers/fuzz.js';

const CAPACITY = 2 * 1024 * 1024;
const RECORDS = PLAN_PIECES * 2 + 5000;

for (const format of ['2', '1']) {
  test.serial(`format ${format}: ${RECORDS} small overlapping writes and zeroed ranges on two volumes restore at every mark exactly, planned in ranges from a spilled write list`, async t => {
    const previous = process.env.MARKLOG_LOG_FORMAT;
    process.env.MARKLOG_LOG_FORMAT = format;
    t.teardown(() => {
      if (previous === undefined) delete process.env.MARKLOG_LOG_FORMAT;
      else process.env.MARKLOG_LOG_FORMAT = previous;
    });
    const seed = Number(process.env.MARKLOG_TEST_SEED ?? Date.now() % 1_000_000);
    t.log(`seed ${seed}`);
    const rng = new Rng(seed);
    const random = () => rng.u32() / 2 ** 32;
    const {primary, remote, r} = await librarySites(t);
    const mvols = [createVolume(primary, CAPACITY).ldev, createVolume(primary, CAPACITY).ldev];
    const rvols = [createVolume(remote, CAPACITY).ldev, createVolume(remote, CAPACITY).ldev];
    createVolume(remote, 128 * 1024 * 1024, true);
    const pairs: number[] = [];
    for (const [i, mvol] of mvols.entries()) pairs.push((await createPair(primary, {mvol, rvol: rvols[i]})).pair);
    const {group} = await startLogging(primary, {pairs, group: 1});

    const expected = [Buffer.alloc(CAPACITY), Buffer.alloc(CAPACITY)];
    const snapshots: {markId: number; images: Buffer[]}[] = [];
    const writer = new HostWriter(primary);
    for (let i = 0; i < RECORDS; i++) {
      const volume = random() < 0.5 ? 0 : 1;
      // Mostly small and unaligned, so each range of the plan holds many cut pieces.
      const length = 1 + Math.floor(random() ** 4 * 9000);
      const offset = Math.floor(random() * (CAPACITY - length));
      const data = random() < 0.05 ? Buffer.alloc(length) : Buffer.alloc(length, 1 + (i % 255));
      if (data[0] !== 0) data.writeUIntLE(i % 2 ** (8 * Math.min(3, length)), 0, Math.min(3, length));
      await writer.write(mvols[volume], offset, data);
      data.copy(expected[volume], offset);
      if (i % 20000 === 19999 || i === RECORDS - 1) {
        writer.release();
        snapshots.push({markId: (await issueMark(primary, {group, app: `at-${i}`})).markId, images: expected.map(image => Buffer.from(image))});
      }
    }
    writer.release();

    const tables = remote.tables();
    const scan = LogScan.of(Journal.open(remote, tables, findGroup(remote, tables, group)), {headersOnly: true});
    t.true(scan.writes.length > PLAN_PIECES && scan.writes.spilled, 'the log is long enough to plan in ranges from a spilled list');
    scan.dispose();

    const out = tempDir(t);
    for (const {markId, images} of snapshots) {
      // Both volumes at once (one pass per range per volume), and one alone.
      const set = path.join(out, `mark-${markId}`);
      fs.mkdirSync(set);
      await restoreToMark(remote, {group, markId, target: {kind: 'file', path: set}});
      for (const [i, rvol] of rvols.entries()) {
        const restored = fs.readFileSync(path.join(set, `rvol-${String(rvol).padStart(4, '0')}.img`));
        t.true(restored.equals(images[i]), `volume ${i} at mark ${markId} (seed ${seed})`);
      }
      fs.rmSync(set, {recursive: true});
    }
    const single = path.join(out, 'single.img');
    await restoreToMark(remote, {group, markId: snapshots[0].markId, rvol: rvols[1], target: {kind: 'file', path: single}});
    t.true(fs.readFileSync(single).equals(snapshots[0].images[1]), `volume 1 alone at the first mark (seed ${seed})`);
    // The scratch file is unlinked when opened: nothing is left beside the log.
    t.deepEqual(fs.readdirSync(path.join(r, 'volumes')).filter(name => name.includes('plan')), []);
  });
}
