// Fuzzing restore (src/restore/restore.ts, restoreToMark to a file) over damaged logs:
// real logs built through the library (plain, wrapped, two log volumes), one log
// volume damaged at random (bit flips, substitutions, one record field — log ID, data
// length, magic, type, app length, address — at an extreme or just past a limit,
// records zeroed, torn, copied or swapped), then a restore to a random mark.
// A restore either builds exactly the image the host had at that mark, or refuses
// with a typed error; it never builds a wrong image, and damage after the mark does
// not stop it.
import fs from 'node:fs';
import path from 'node:path';
import {Site} from '../../src/site/site.js';
import {closeLink} from '../../src/site/link-opener.js';
import {restoreToMark} from '../../src/restore/restore.js';
import {Rng, caseCount, describe, fuzzSuite, isTyped} from '../helpers/fuzz.js';
import {buildLog, scratchDir, sha, type FuzzLog, type LogShape} from '../helpers/fuzz-sites.js';
import {assess, damageLog, describeChanges, type Damage} from '../helpers/log-damage.js';
import {REC, specCrcOk, specFrame} from '../helpers/log-spec.js';

process.env.MARKLOG_LINK_RETRIES = '0';

const PROPERTIES = [
  'restore never builds a wrong image: a restore that succeeds gives exactly the host\'s image at the mark',
  'restore fails only with a typed error',
  'restore refuses when a record up to the mark is damaged',
  'a refused restore says CORRUPT_LOG',
  'damage after the mark does not stop a restore to it',
  'a refused restore leaves no file behind, and no restore changes the site',
];

// Both log formats: version 1 (FORMAT.md §4.2) and version 2 (§4.8), whose restore
// checks only the data blocks it uses, so damage in bytes a later write replaced
// does not stop it; there a damaged record header before the mark still must.
for (const version of [1, 2] as const) fuzzSuite(`restore from a damaged log (format ${version})`, PROPERTIES, async ({seed, ledger, note, t}) => {
  const shapes: LogShape[] = ['plain', 'wrapped', 'two-volumes'];
  const fixtures: FuzzLog[] = [];
  for (const shape of shapes) fixtures.push(await buildLog(t, shape, seed, version));
  const out = scratchDir(t, 'marklog-fuzz-restore-');
  // Damage every run includes, whatever the seed: one bit of a log ID, one bit of the
  // current header slot, a record magic. Each restores to the last mark.
  const edges: {fixture: number; damage: Damage; markId: number}[] = [];
  fixtures.forEach((fx, fixture) => {
    const last = fx.marks.at(-1)!;
    const target = fx.records.find(r => r.kind === 'write' && r.logId < last.logId && r.volume === 0)!;
    const flipped = Buffer.from(fx.logVolumes[0].pristine);
    flipped[target.offset + 8 + 3] ^= 0x02;
    edges.push({fixture, markId: last.markId, damage: assess(fx, 0, flipped, 'raw', [`flip bit 1 of byte ${target.offset + 11} (log ID ${target.logId}, bit 25 of its logId)`])});
    const header = Buffer.from(fx.logVolumes[0].pristine);
    const at = fx.logVolumes[0].headerSlot * 4096 + 41;
    header[at] ^= 0x40;
    edges.push({fixture, markId: last.markId, damage: assess(fx, 0, header, 'raw', [`flip bit 6 of byte ${at} (baseGeneration in the current header slot)`])});
    const magic = Buffer.from(fx.logVolumes[0].pristine);
    magic[target.offset + 2] ^= 0x01;
    edges.push({fixture, markId: last.markId, damage: assess(fx, 0, magic, 'raw', [`flip bit 0 of byte ${target.offset + 2} (log ID ${target.logId}, record magic)`])});
  });
  const cases = caseCount(version === 1 ? 750 : 400) + edges.length;
  const outcomes: Record<string, number> = {};
  let succeeded = 0;
  let refused = 0;
  for (let index = 0; index < cases; index++) {
    const rng = new Rng(seed, index);
    const edge = edges[index];
    const fi = edge ? edge.fixture : index % fixtures.length;
    const fx = fixtures[fi];
    const damage = edge ? edge.damage : damageLog(rng, fx, {raw: 60, field: 25, records: 15});
    const vol = fx.logVolumes[damage.volume];
    const mark = edge ? fx.marks.find(m => m.markId === edge.markId)! : rng.pick(fx.marks);
    const position = (volume: number, offset: number) => fx.records.findIndex(r => r.volume === volume && r.offset === offset);
    const markAt = position(mark.volume, mark.offset);
    const damagedAt = damage.changed.map(r => position(damage.volume, r.offset));
    // Format 2 must refuse for damage to a record's header or meta area (everything but a write's data bytes).
    const dataStart = (r: (typeof damage.changed)[number]) => r.crcEnd - (r.data?.length ?? 0);
    const headerDamaged = (r: (typeof damage.changed)[number]) => !vol.pristine.subarray(r.offset, dataStart(r)).equals(damage.bytes.subarray(r.offset, dataStart(r)));
    const upToMark = damage.changed.some(r => position(damage.volume, r.offset) <= markAt && (version === 1 || headerDamaged(r)));
    const onlyAfter = !damage.headerChanged && damagedAt.every(p => p > markAt);
    // Why a damaged record before the mark could go unnoticed: its (damaged) log ID now
    // claims to be at or after the mark, or a CRC-valid record sits out of place.
    const cause = () => {
      if (damage.headerChanged) return 'the current header slot was damaged and the older slot, one update behind, was used without a report';
      for (const r of damage.changed) {
        if (position(damage.volume, r.offset) > markAt) continue;
        const frame = specFrame(damage.bytes.subarray(r.offset, r.offset + REC.size));
        const crcOk = frame.ok && specCrcOk(damage.bytes.subarray(r.offset, r.offset + REC.size), damage.bytes.subarray(r.offset + REC.size, r.offset + REC.size + frame.dataLength));
        if (frame.ok && !crcOk && Number(frame.logId) >= mark.logId) return 'a damaged record (CRC fails) whose log ID field now reads at or past the mark\'s';
        if (frame.ok && crcOk) return 'a CRC-valid record out of place (copied or swapped)';
      }
      return 'other';
    };
    const context = () => `${shapes[fi]} log; restore to mark ${mark.markId} (log ID ${mark.logId}); volume ${damage.volume} ${damage.mode}: ${damage.steps.join('; ')}; `
      + `changed: ${describeChanges(fx, damage)}${damage.headerChanged ? '; the current header slot' : ''}`;

    fs.writeFileSync(vol.file, damage.bytes);
    const target = path.join(out, `case-${index}.img`);
    let site: Site | undefined;
    let error: unknown;
    try {
      site = Site.open(fx.remote);
      await restoreToMark(site, {group: fx.group, markId: mark.markId, target: {kind: 'file', path: target}});
    } catch (e) {
      error = e;
    } finally {
      if (site) {
        closeLink(site);
        site.close();
      }
    }
    ledger.cases++;
    const logAfter = fs.readFileSync(vol.file);
    const rvolAfter = fs.readFileSync(fx.rvolFile);
    fs.writeFileSync(vol.file, vol.pristine);

    const outcome = error === undefined ? 'restored' : isTyped(error) ? error.code : 'untyped';
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    if (error === undefined) {
      succeeded++;
      const image = fs.existsSync(target) ? fs.readFileSync(target) : undefined;
      ledger.check(PROPERTIES[0], index, image !== undefined && image.equals(mark.expected),
        () => `restore succeeded but the image ${image ? `differs (sha ${sha(image)}, expected ${sha(mark.expected)}; first difference at byte ${image.findIndex((b, i) => b !== mark.expected[i])})` : 'is missing'}; ${context()}`,
        cause());
      ledger.check(PROPERTIES[2], index, !upToMark, () => `restore succeeded although a record up to the mark was damaged; ${context()}`, cause());
      fs.rmSync(target, {force: true});
    } else {
      refused++;
      ledger.check(PROPERTIES[1], index, isTyped(error), () => `${describe(error)}; ${context()}`);
      ledger.check(PROPERTIES[3], index, isTyped(error) && error.code === 'CORRUPT_LOG', () => `${describe(error)}; ${context()}`,
        isTyped(error) ? error.code : 'untyped');
      ledger.check(PROPERTIES[4], index, !onlyAfter, () => `${describe(error)}; ${context()}`, isTyped(error) ? error.code : 'untyped');
      ledger.check(PROPERTIES[5], index, !fs.existsSync(target), () => `${target} exists after a refused restore; ${context()}`);
    }
    const leftovers = fs.readdirSync(out).filter(name => name.includes('partial'));
    const siteSame = logAfter.equals(damage.bytes) && rvolAfter.equals(fx.base);
    ledger.check(PROPERTIES[5], index, leftovers.length === 0 && siteSame,
      () => `${leftovers.length ? `left ${leftovers.join(', ')}` : ''}${siteSame ? '' : ' the log volume or the R-VOL changed'}; ${context()}`);
    for (const name of leftovers) fs.rmSync(path.join(out, name), {force: true});
  }
  note(`outcomes: ${JSON.stringify(outcomes)} (${succeeded} restored, ${refused} refused)`);
  if (succeeded < 50 || refused < 50) ledger.fail(PROPERTIES[1], -1, `the cases do not exercise both outcomes: ${JSON.stringify(outcomes)}`);
});
