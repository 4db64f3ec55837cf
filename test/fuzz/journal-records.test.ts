// Fuzzing the journal reader (src/log/journal.ts, Journal.open(...).records(onCorruption))
// on real logs built through the library — a plain log, a wrapped ring and a log over
// two volumes — whose log volume images are damaged at random between cases: bit
// flips, substitutions, length/log ID/magic fields at their extremes, header fields
// with a repaired CRC, records zeroed, torn, copied or swapped, the file truncated or
// extended. Every yielded record and every report is checked against the bytes on disk
// with an independent reading of docs/FORMAT.md §4.
import fs from 'node:fs';
import {Site} from '../../src/site/site.js';
import {findGroup} from '../../src/log/remote-log.js';
import {Journal, type Corruption, type LocatedRecord} from '../../src/log/journal.js';
import {Rng, caseCount, describe, fuzzSuite, isTyped, largestAllocation} from '../helpers/fuzz.js';
import {buildLog, type FuzzLog, type LogShape} from '../helpers/fuzz-sites.js';
import {damageLog, effectiveHeader, type Damage} from '../helpers/log-damage.js';
import {REC, afterTailRanges, align8, liveRanges, specCrcOk, specData, specFrame, type SpecRecord} from '../helpers/log-spec.js';

process.env.MARKLOG_LINK_RETRIES = '0';

const PROPERTIES = [
  'opening and reading a damaged log answers with records, reports or a typed error, never another exception',
  'no allocation beyond the size of a log volume',
  'every yielded record passes its CRC in the bytes on disk',
  'yielded records are records that were written, in strictly increasing log ID order',
  'each report points into a live range at a record that really is damaged, with a fixed reason',
  'nothing is lost silently: a written record that is not yielded comes with a report',
  'an undamaged record is never reported, and every record before the first damaged one is read',
  'a log volume whose header names another group, LDEV or site is refused',
  'a jump in log IDs (a missing or out-of-place record) is reported before the record after it is yielded',
];

/** Is the report's claim about the record at `offset` (in a live range ending at `to`) true of these bytes? */
function claimHolds(bytes: Buffer, offset: number, to: number, reason: string): boolean {
  const header = bytes.subarray(offset, offset + REC.size);
  const frame = specFrame(header);
  const fits = frame.ok && offset + align8(REC.size + frame.dataLength) <= to;
  const crcOk = () => fits && frame.ok && specCrcOk(header, bytes.subarray(offset + REC.size, offset + REC.size + frame.dataLength));
  switch (reason) {
    case 'truncated record':
      return to - offset < REC.size || (frame.ok && !fits);
    case 'bad record magic':
      return !frame.ok && frame.why === 'magic';
    case 'bad record type':
      return !frame.ok && frame.why === 'type';
    case 'bad record header':
      // A frame whose fields overflow, or (CRC good) a data area with a 64-bit value past 2^53 − 1 or a name that is not UTF-8.
      return (!frame.ok && frame.why === 'header') || crcOk();
    case 'bad record length': {
      if (!frame.ok) return frame.why === 'length';
      if (!crcOk()) return false;
      const body = specData(frame.kind, bytes.subarray(offset + REC.size, offset + REC.size + frame.dataLength));
      return !body.ok;
    }
    case 'checksum mismatch':
      return fits && !crcOk();
    case 'log id not increasing':
    case 'log id gap':
      // The record is intact; its place in the sequence is what is wrong.
      return crcOk();
    default:
      return false;
  }
}

function sameRecord(located: LocatedRecord, written: SpecRecord): boolean {
  const r = located.record;
  if (r.kind !== written.kind || r.logId !== written.logId) return false;
  if (r.kind === 'write') return r.ldev === written.ldev && r.address === written.address && Buffer.compare(r.data, written.data!) === 0;
  if (r.kind === 'zero') return r.ldev === written.ldev && r.address === written.address && r.length === written.length;
  return r.markId === written.markId && r.app === written.app;
}

fuzzSuite('journal reader', PROPERTIES, async ({seed, ledger, note, t}) => {
  const shapes: LogShape[] = ['plain', 'wrapped', 'two-volumes'];
  const fixtures: FuzzLog[] = [];
  for (const shape of shapes) fixtures.push(await buildLog(t, shape, seed));
  const tablesOf = new Map(fixtures.map(fx => [fx, JSON.parse(fs.readFileSync(`${fx.remote}/tables.json`, 'utf8'))]));
  const cases = caseCount(2100);
  const modes: Record<string, number> = {};
  const outcomes: Record<string, number> = {};
  for (let index = 0; index < cases; index++) {
    const rng = new Rng(seed, index);
    const fx = fixtures[index % fixtures.length];
    const damage: Damage = damageLog(rng, fx, {raw: 55, field: 15, header: 10, records: 15, file: 5});
    const vol = fx.logVolumes[damage.volume];
    modes[damage.mode] = (modes[damage.mode] ?? 0) + 1;
    // Records and reports name a volume by the LDEV its header gives (see the identity
    // property below for a header that gives another one): look the bytes up that way.
    const volumes = fx.logVolumes.map((v, i) => i === damage.volume ? damage.bytes : v.pristine);
    const declared = volumes.map(bytes => {
      const h = effectiveHeader(bytes);
      return h.ok ? bytes.readUInt32LE(h.slot * 4096 + 24) : -1;
    });
    const candidates = (ldev: number) => volumes.filter((_, i) => declared[i] === ldev);
    const context = () => `${fx === fixtures[0] ? 'plain' : fx === fixtures[1] ? 'wrapped' : 'two-volumes'} log, volume ${damage.volume} (LDEV ${vol.ldev}), ${damage.mode}: ${damage.steps.join('; ')}`;

    fs.writeFileSync(vol.file, damage.bytes);
    const reports: Corruption[] = [];
    const yielded: LocatedRecord[] = [];
    /** Reports seen before each yielded record. */
    const reportsBefore: number[] = [];
    let site: Site | undefined;
    /** The reader found the slot the next header update would use damaged (verify's `header-slot` warning). */
    let tornSlot = false;
    const run = largestAllocation(() => {
      site = Site.open(fx.remote);
      const tables = site.tables();
      const journal = Journal.open(site, tables, findGroup(site, tables, fx.group));
      tornSlot = journal.volumes.some(v => v.headerSlotDamaged);
      for (const located of journal.records(damage => reports.push(damage))) {
        reportsBefore.push(reports.length);
        yielded.push(located);
      }
    });
    site?.close();
    fs.writeFileSync(vol.file, vol.pristine);
    ledger.cases++;

    const outcome = run.error === undefined ? (reports.length ? 'read with reports' : 'read clean') : isTyped(run.error) ? `refused: ${run.error.code}` : 'untyped error';
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    if (run.error !== undefined) ledger.check(PROPERTIES[0], index, isTyped(run.error), () => `${describe(run.error)}; ${context()}`);
    const limit = Math.max(damage.bytes.length, ...fx.logVolumes.map(v => v.pristine.length));
    ledger.check(PROPERTIES[1], index, run.largest <= limit, () => `allocated ${run.largest} bytes (largest volume ${limit}); ${context()}`);

    // Every yielded record is backed by a CRC-valid record at its address.
    let last = 0;
    for (const located of yielded) {
      const backed = candidates(located.logLdev).some(bytes => {
        const header = bytes.subarray(located.address, located.address + REC.size);
        const frame = specFrame(header);
        return frame.ok && Number(frame.logId) === located.record.logId
          && specCrcOk(header, bytes.subarray(located.address + REC.size, located.address + REC.size + frame.dataLength));
      });
      ledger.check(PROPERTIES[2], index, backed, () => `yielded log ID ${located.record.logId} at LDEV ${located.logLdev} address ${located.address}, whose bytes there fail their CRC; ${context()}`);
      if (damage.mode !== 'header') {
        const written = fx.records.find(r => r.logId === located.record.logId);
        ledger.check(PROPERTIES[3], index, written !== undefined && sameRecord(located, written) && located.record.logId > last,
          () => `yielded ${JSON.stringify({...located.record, data: undefined})} at ${located.address} after log ID ${last}; ${context()}`);
      }
      last = located.record.logId;
    }

    // Every report names a live offset where the claimed damage is real (past the tail
    // too, when the newer header slot was damaged and the reader looked there, §4.5).
    for (const report of reports) {
      const holds = candidates(report.logLdev).some(bytes => {
        const h = effectiveHeader(bytes);
        const ranges = h.ok ? [...liveRanges(h), ...(damage.headerChanged ? afterTailRanges(h) : [])] : [];
        const range = ranges.find(r => r.from <= report.offset && report.offset < r.to);
        if (range === undefined) return false;
        // §4.5: with the current slot lost, the reader takes back the one whole record at the
        // tail, and the live range then ends after it (a record before it may now fit).
        const tail = h.ok ? h.tail : -1;
        const frameAtTail = range.to === tail ? specFrame(bytes.subarray(tail, tail + REC.size)) : undefined;
        const rolled = damage.headerChanged && frameAtTail?.ok ? tail + align8(REC.size + frameAtTail.dataLength) : range.to;
        return claimHolds(bytes, report.offset, range.to, report.reason) || (rolled > range.to && claimHolds(bytes, report.offset, rolled, report.reason));
      });
      ledger.check(PROPERTIES[4], index, holds, () => `report ${JSON.stringify(report)} does not hold for the bytes in that volume's live ranges; ${context()}`, report.reason);
    }

    const h = effectiveHeader(damage.bytes);
    if (run.error === undefined && h.ok) {
      const slot = damage.bytes.subarray(h.slot * 4096, h.slot * 4096 + 4096);
      const tables = tablesOf.get(fx)!;
      const said = {group: slot.readUInt32LE(16), ldev: slot.readUInt32LE(24), siteId: slot.toString('latin1', 176, 192).replace(/\0+$/, '')};
      ledger.check(PROPERTIES[7], index, said.group === fx.group && said.ldev === vol.ldev && said.siteId === tables.site.id,
        () => `the header says group ${said.group}, LDEV ${said.ldev}, site ${JSON.stringify(said.siteId)}; the volume is LDEV ${vol.ldev} of group ${fx.group} at site ${tables.site.id}, and it was read; ${context()}`,
        said.group !== fx.group ? 'another group' : said.ldev !== vol.ldev ? 'another LDEV' : 'another site');
    }

    for (let i = 1; i < yielded.length && damage.mode !== 'header'; i++) {
      const [a, b] = [yielded[i - 1].record.logId, yielded[i].record.logId];
      ledger.check(PROPERTIES[8], index, b === a + 1 || reportsBefore[i] > reportsBefore[i - 1],
        () => `log ID ${b} was yielded right after ${a} with no report between them${reports.length > reportsBefore[i] ? ` (${reports.length - reportsBefore[i]} report(s) came later: ${reports.slice(reportsBefore[i], reportsBefore[i] + 2).map(r => `${r.reason} ${r.logId}`).join(', ')})` : ''}; ${context()}`,
        damage.mode === 'records' ? 'a CRC-valid record out of place' : damage.headerChanged ? 'the current header slot was damaged; the older one was used' : damage.mode);
    }

    if (damage.mode === 'header' || run.error !== undefined) continue;
    const lost = fx.records.filter(r => !yielded.some(y => y.record.logId === r.logId));
    // A record lost with its header update and damaged beyond recognition (its magic too) is
    // told only by the torn slot: the reader flags it, and verify warns.
    ledger.check(PROPERTIES[5], index, lost.length === 0 || reports.length > 0 || (damage.headerChanged && tornSlot),
      () => `log IDs ${lost.map(r => r.logId).join(',')} were not yielded and nothing was reported${damage.headerChanged ? ' (the current header slot was damaged; the reader used the other, older slot)' : ''}; ${context()}`,
      damage.headerChanged ? 'current header slot damaged: the older slot was used without a report' : 'other');

    if (damage.headerChanged) continue;
    const firstDamaged = fx.records.findIndex(r => r.volume === damage.volume && damage.changed.some(c => c.offset === r.offset));
    const intact = firstDamaged < 0 ? fx.records : fx.records.slice(0, firstDamaged);
    for (const r of intact) {
      const y = yielded.find(located => located.record.logId === r.logId);
      const reported = reports.find(d => d.offset === r.offset && d.logLdev === fx.logVolumes[r.volume].ldev);
      ledger.check(PROPERTIES[6], index, y !== undefined && !reported,
        () => `log ID ${r.logId} at ${r.offset} (undamaged, before the first damaged record) was ${y ? 'yielded' : 'not yielded'}${reported ? ` and reported: ${reported.reason}` : ''}; ${context()}`);
    }
  }
  note(`modes: ${JSON.stringify(modes)}`);
  note(`outcomes: ${JSON.stringify(outcomes)}`);
});
