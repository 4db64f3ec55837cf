// A log group's journal for one R-VOL as a dm-log-writes log (docs/INTEROP.md), so
// that the Linux world's tools replay it: each write record a WRITE entry, each mark
// a MARK entry named by its mark ID in decimal. A write that is not sector-aligned is
// widened to whole sectors with the bytes the volume held at that point of the log
// (base plus the records before it), so replaying the export onto a copy of the base
// gives, at every mark, exactly the image `marklog restore` gives.
import fs from 'node:fs';
import path from 'node:path';
import {BaseMismatchError, InvalidArgumentError, TargetError} from '../errors.js';
import {DmFlag, encodeEntry, encodeSuper} from '../format/dm-log-writes.js';
import {Journal} from '../log/journal.js';
import {findGroup} from '../log/remote-log.js';
import {checkBase, checkRecordsBefore, chooseMark} from '../restore/locate.js';
import {ExtentMap} from '../restore/extent-map.js';
import {LogScan, ZEROS, type LocatedMark, type ScannedWrite} from '../restore/scan.js';
import {clearAbandonedPartials, partialName} from '../restore/staging.js';
import {refuseUnfinishedTakeover} from '../takeover/intent.js';
import type {Site} from '../site/site.js';
import type {VolumeImage} from '../volume/image.js';

export const EXPORT_FORMATS = ['dm-log-writes'] as const;
export const SECTOR_SIZES = [512, 4096] as const;

export interface ExportOptions {
  group: number;
  rvol: number;
  out: string;
  /** The last mark exported; without it, the whole log. */
  upto?: number;
  sectorSize?: number;
}

export interface ExportResult {
  group: number;
  rvol: number;
  out: string;
  sectorSize: number;
  /** The mark the export ends at, if one was named. */
  upto: number | null;
  entries: number;
  writes: number;
  /** DISCARD entries: zero records on whole sectors. */
  discards: number;
  marks: number;
  /** Writes that were not sector-aligned, widened with the volume's bytes around them. */
  widened: number;
  /** Bytes of the log file. */
  bytes: number;
}

type Entry = {kind: 'write'; write: ScannedWrite; index: number} | {kind: 'mark'; mark: LocatedMark};

export function exportDmLogWrites(site: Site, options: ExportOptions): ExportResult {
  const sectorSize = options.sectorSize ?? 512;
  if (!(SECTOR_SIZES as readonly number[]).includes(sectorSize)) throw new InvalidArgumentError(`sector size ${sectorSize} must be 512 or 4096`);
  const out = path.resolve(options.out);
  if (fs.existsSync(out)) throw new TargetError(`${out} exists; an export never overwrites a file`);
  if (!fs.existsSync(path.dirname(out))) throw new TargetError(`directory ${path.dirname(out)} does not exist`);
  const plan = site.lock.run(() => {
    const tables = site.tables();
    const group = findGroup(site, tables, options.group);
    refuseUnfinishedTakeover(site.dir, group, 'an export');
    if (!group.members.some(m => m.rvol === options.rvol)) {
      throw new InvalidArgumentError(`R-VOL LDEV ${options.rvol} is not in log group ${options.group} at ${tables.site.name} (members: ${group.members.map(m => m.rvol).join(', ')})`);
    }
    const journal = Journal.open(site, tables, group);
    const scan = LogScan.of(journal, {untilMark: options.upto});
    checkBase(site, tables, group, journal);
    const mark = options.upto === undefined ? undefined : chooseMark(scan, {markId: options.upto});
    const end = mark ? mark.logId + 1 : Number.MAX_SAFE_INTEGER;
    checkRecordsBefore(scan, end, mark ? `mark ${mark.markId}` : 'the end of the log');
    const volume = site.volume(tables, options.rvol);
    if (volume.capacity % sectorSize !== 0) throw new InvalidArgumentError(`R-VOL LDEV ${options.rvol} holds ${volume.capacity} bytes, not a whole number of ${sectorSize}-byte sectors; export with --sector-size 512`);
    return {scan, end, mark, base: site.image(volume), generation: volume.generation, baseGeneration: group.baseGeneration};
  });
  const entries = inLogOrder(plan.scan, options.rvol, plan.end);
  const logImages = new Map(plan.scan.journal.volumes.map(v => [v.header.ldev, v.image]));
  // What an export that died left under a temporary name goes first.
  clearAbandonedPartials(out);
  const partial = partialName(out);
  const fd = fs.openSync(partial, 'wx');
  const result: ExportResult = {group: options.group, rvol: options.rvol, out, sectorSize, upto: plan.mark?.markId ?? null, entries: 0, writes: 0, discards: 0, marks: 0, widened: 0, bytes: 0};
  try {
    let at = sectorSize;
    const append = (piece: Buffer) => {
      fs.writeSync(fd, piece, 0, piece.length, at);
      at += piece.length;
    };
    const held = new ExtentMap();
    for (const entry of entries) {
      if (entry.kind === 'mark') {
        const name = Buffer.from(String(entry.mark.markId), 'ascii');
        append(encodeEntry({sector: 0, nrSectors: 0, flags: DmFlag.mark, dataLen: name.length}, sectorSize, name));
        result.marks++;
      } else {
        const {write} = entry;
        const first = Math.floor(write.address / sectorSize) * sectorSize;
        const last = Math.ceil((write.address + write.length) / sectorSize) * sectorSize;
        const aligned = first === write.address && last === write.address + write.length;
        if (write.logLdev === ZEROS && aligned) {
          // A zero record on whole sectors is a DISCARD: a range that reads as zeros, with no data.
          append(encodeEntry({sector: first / sectorSize, nrSectors: (last - first) / sectorSize, flags: DmFlag.discard, dataLen: 0}, sectorSize));
          result.discards++;
        } else {
          const data = Buffer.alloc(last - first);
          if (!aligned) {
            fill(data, first, write.address, held, plan.base, logImages, first);
            fill(data, write.address + write.length, last, held, plan.base, logImages, first);
            result.widened++;
          }
          if (write.logLdev !== ZEROS) logImages.get(write.logLdev)!.readInto(write.source, data.subarray(write.address - first), write.length);
          append(encodeEntry({sector: first / sectorSize, nrSectors: data.length / sectorSize, flags: 0, dataLen: 0}, sectorSize));
          append(data);
          result.writes++;
        }
        held.put(write.address, write.address + write.length, write.logLdev, write.source, entry.index);
      }
      result.entries++;
    }
    fs.writeSync(fd, encodeSuper({nrEntries: result.entries, sectorSize}), 0, sectorSize, 0);
    result.bytes = at;
    fs.fdatasyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(partial, {force: true});
    throw error;
  }
  fs.closeSync(fd);
  // The export was written without the site lock; a resync or an apply meanwhile would have changed the base under it.
  const now = site.tables();
  if (findGroup(site, now, options.group).baseGeneration !== plan.baseGeneration || site.volume(now, options.rvol).generation !== plan.generation) {
    fs.rmSync(partial, {force: true});
    throw new BaseMismatchError(`log group ${options.group} or R-VOL LDEV ${options.rvol} changed while the export read it; run the export again`);
  }
  fs.renameSync(partial, out);
  return result;
}

/** The volume's write records and the group's marks below log ID `end`, in log order. */
function inLogOrder(scan: LogScan, rvol: number, end: number): Entry[] {
  const writes: Entry[] = [];
  let index = 0;
  for (const write of scan.writes) {
    if (write.ldev === rvol && write.logId < end) writes.push({kind: 'write', write, index});
    index++;
  }
  const marks: Entry[] = scan.marks.filter(m => m.logId < end).map(mark => ({kind: 'mark', mark}));
  const logId = (e: Entry) => (e.kind === 'write' ? e.write.logId : e.mark.logId);
  return [...writes, ...marks].sort((a, b) => logId(a) - logId(b));
}

/** Copies what the volume holds in [from, to) at this point of the log into `data` (which starts at `origin`). */
function fill(data: Buffer, from: number, to: number, held: ExtentMap, base: VolumeImage, logImages: Map<number, VolumeImage>, origin: number): void {
  let at = from;
  for (const extent of held.covering(from, to)) {
    if (extent.start > at) base.readInto(at, data.subarray(at - origin), extent.start - at);
    if (extent.logLdev === ZEROS) data.fill(0, extent.start - origin, extent.end - origin);
    else logImages.get(extent.logLdev)!.readInto(extent.source, data.subarray(extent.start - origin), extent.end - extent.start);
    at = extent.end;
  }
  if (at < to) base.readInto(at, data.subarray(at - origin), to - at);
}
