// FORMAT.md §5, the activity log: a process killed with many writes in flight leaves
// one slot set per write; the next command that writes sends every region on. The
// slots are written here as bytes, the way a killed `marklog serve` leaves them: the
// M-VOL already holds the new data, the R-VOL and the log do not.
import fs from 'node:fs';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {cli} from '../helpers/cli.js';
import {writeAt} from '../helpers/sites.js';
import {librarySites, loggedPair} from '../helpers/library-sites.js';
import {ACTIVITY_SLOTS, INFLIGHT_SIZE, encodeInflight, decodeInflight, type Inflight} from '../../src/format/inflight-format.js';
import {createVolume} from '../../src/volume/volume-admin.js';
import {createPair} from '../../src/pair/pair-create.js';
import {issueMark} from '../../src/mark/mark.js';
import {marksInLog} from '../../src/mark/remote-marks.js';
import {restoreToMark} from '../../src/restore/restore.js';
import {verifySite} from '../../src/verify/verify.js';
import type {Site} from '../../src/site/site.js';

const CAPACITY = 4 * 1024 * 1024;
const KiB = 1024;

/** What a killed server leaves: the writes on the M-VOL's image, and a slot set for each, from slot 0. */
function killedWithWritesInFlight(site: string, mvolImage: string, writes: (Inflight & {data: Buffer})[]): void {
  const fd = fs.openSync(mvolImage, 'r+');
  for (const write of writes) fs.writeSync(fd, write.data, 0, write.length, write.offset);
  fs.closeSync(fd);
  const slots = Buffer.alloc(ACTIVITY_SLOTS * INFLIGHT_SIZE);
  writes.forEach((write, slot) => encodeInflight(write).copy(slots, slot * INFLIGHT_SIZE));
  fs.writeFileSync(path.join(site, 'inflight'), slots);
}

function setSlots(site: string): number {
  const bytes = fs.readFileSync(path.join(site, 'inflight'));
  let set = 0;
  for (let at = 0; at < bytes.length; at += INFLIGHT_SIZE) if (decodeInflight(bytes.subarray(at, at + INFLIGHT_SIZE)) !== null) set++;
  return set;
}

function imageOf(site: Site, ldev: number): string {
  return site.path(site.view().volumes.find(v => v.ldev === ldev)!.image);
}

/** An M-VOL and its R-VOL in PAIR; the primary's handle is closed, as a killed process's would be. */
async function pairInPair(t: ExecutionContext) {
  const {p, primary, remote} = await librarySites(t);
  const mvol = createVolume(primary, CAPACITY).ldev;
  const rvol = createVolume(remote, CAPACITY).ldev;
  await createPair(primary, {mvol, rvol});
  const mvolImage = imageOf(primary, mvol);
  const rvolImage = imageOf(remote, rvol);
  primary.close();
  return {p, mvol, mvolImage, rvolImage};
}

/** Nine writes, two of them overlapping the first, one a neighbour of another: the shapes a batch has. */
function batch(mvol: number): (Inflight & {data: Buffer})[] {
  const spots = [[0, 8], [4, 8], [2, 1], [100, 16], [116, 4], [300, 1], [301, 1], [640, 64], [6, 2]];
  return spots.map(([block, blocks], i) => ({ldev: mvol, offset: block * 4 * KiB, length: blocks * 4 * KiB, data: Buffer.alloc(blocks * 4 * KiB, 0x30 + i)}));
}

test('writes a killed process left in flight in many slots all reach the R-VOL with the next write: M-VOL and R-VOL are the same, and every slot is clear', async t => {
  const {p, mvol, mvolImage, rvolImage} = await pairInPair(t);
  killedWithWritesInFlight(p, mvolImage, batch(mvol));
  t.is(setSlots(p), 9);
  t.false(fs.readFileSync(mvolImage).equals(fs.readFileSync(rvolImage)), 'the R-VOL has not had the writes yet');

  writeAt(p, mvol, 2 * 1024 * KiB, Buffer.from('after the crash'));
  t.true(fs.readFileSync(mvolImage).equals(fs.readFileSync(rvolImage)), 'after the repair the R-VOL is the M-VOL byte for byte');
  t.is(setSlots(p), 0);
  t.true((await verifySite(p)).clean);
});

test('writes a killed process left in flight in many slots are all logged before the next mark: the mark restores at the remote to exactly the M-VOL', async t => {
  const {p, r, root, primary, remote, mvol, group} = await loggedPair(t, CAPACITY, 64 * 1024 * 1024);
  const mvolImage = imageOf(primary, mvol);
  await issueMark(primary, {app: 'before'});
  const before = fs.readFileSync(mvolImage);
  primary.close();
  killedWithWritesInFlight(p, mvolImage, batch(mvol));

  const marked = cli(['mark', '--site', p, '--group', String(group), '--app', 'after', '--json']);
  t.is(marked.code, 0, marked.stderr);
  t.is(setSlots(p), 0);
  const [first, second] = marksInLog(remote, group);
  for (const [mark, expected] of [[first, before], [second, fs.readFileSync(mvolImage)]] as const) {
    const target = path.join(root, `mark-${mark.markId}.img`);
    await restoreToMark(remote, {group, markId: mark.markId, target: {kind: 'file', path: target}});
    t.true(fs.readFileSync(target).equals(expected), `mark ${mark.markId} restores to the M-VOL as it was then`);
  }
  t.true((await verifySite(r)).clean);
});

test('an inflight file of one record, as releases before the activity log wrote it, is repaired and grown to every slot', async t => {
  const {p, mvol, mvolImage, rvolImage} = await pairInPair(t);
  const [write] = batch(mvol);
  killedWithWritesInFlight(p, mvolImage, [write]);
  fs.truncateSync(path.join(p, 'inflight'), INFLIGHT_SIZE);

  writeAt(p, mvol, 2 * 1024 * KiB, Buffer.from('after the crash'));
  t.true(fs.readFileSync(mvolImage).equals(fs.readFileSync(rvolImage)));
  t.is(fs.statSync(path.join(p, 'inflight')).size, ACTIVITY_SLOTS * INFLIGHT_SIZE);
  t.is(setSlots(p), 0);
});

test('verify between the kill and the repair says writes are in flight, and its deep compare does not take their lagging R-VOL chunks for damage; after the next write it is clean', async t => {
  const {p, mvol, mvolImage} = await pairInPair(t);
  killedWithWritesInFlight(p, mvolImage, batch(mvol));
  const before = await verifySite(p, {deep: true});
  t.deepEqual(before.findings.map(f => `${f.severity} ${f.check}`), ['warning writes-in-flight']);
  t.regex(before.findings[0].message, /^9 write\(s\) a killed process left in flight/);
  t.is(setSlots(p), 9, 'verify changes nothing');
  writeAt(p, mvol, 2 * 1024 * KiB, Buffer.from('after the crash'));
  const after = await verifySite(p, {deep: true});
  t.deepEqual(after.findings, []);
  t.true(after.clean);
});

test('Fig. 16: writes to a suspended pair killed after they reached the M-VOL, before their bits were set, are carried by the next resync: the R-VOL is then the M-VOL', async t => {
  const {p, mvol, mvolImage, rvolImage} = await pairInPair(t);
  t.is(cli(['pair', 'suspend', '--site', p, '--pair', '1']).code, 0);
  killedWithWritesInFlight(p, mvolImage, batch(mvol));
  const resynced = cli(['pair', 'resync', '--site', p, '--pair', '1', '--json']);
  t.is(resynced.code, 0, resynced.stderr);
  t.is(JSON.parse(resynced.stdout).state, 'PAIR');
  t.true(fs.readFileSync(mvolImage).equals(fs.readFileSync(rvolImage)), 'the resync carried every region left in flight');
  t.is(setSlots(p), 0);
  t.true((await verifySite(p, {deep: true})).clean);
});
