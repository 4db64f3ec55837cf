// The log of one log group (patent Figs. 8, 10, 11, 12, 13): its log volumes in
// fill order, appends with the next log ID, and an in-order reader that reports
// damage instead of guessing past it. Callers hold the lock of the site holding it.
import {CorruptLogError, LogFullError} from '../errors.js';
import {encodeRecordPieces, encodedSize, LOG_DATA_START, type LogRecord, type MarkRecord} from '../format/log-format.js';
import {encodeRecordPiecesV2, encodedSizeV2, type WriteLayoutV2} from '../format/log-record-v2.js';
import {parseRecord} from './record-reader.js';
import {ReadWindow, ScratchReader} from './read-window.js';
import {LogVolume} from './log-volume.js';
import {nowMicros} from '../util/time.js';
import type {Site} from '../site/site.js';
import type {VolumeImage} from '../volume/image.js';
import type {LogGroupRow, Tables} from '../site/tables.js';

export type NewEntry =
  | {kind: 'write'; ldev: number; address: number; data: Uint8Array}
  | {kind: 'zero'; ldev: number; address: number; length: number}
  | {kind: 'mark'; markId: number; markTime: number; app: string};

export interface Appended {
  logId: number;
  timer: number;
  /** The log volume and byte offset the record was written at. */
  logLdev: number;
  address: number;
}

export interface Corruption {
  logLdev: number;
  offset: number;
  logId?: number;
  reason: string;
}

export interface LocatedRecord {
  record: LogRecord;
  logLdev: number;
  address: number;
  /** For a write: where its bytes start in the log volume, and how many there are. */
  dataOffset: number;
  dataLength: number;
  /** Format version 2: the CRC of each data block, to check the bytes a reader uses. */
  layout?: WriteLayoutV2;
  /** Whether a write's data was read and checked by the reader. */
  dataChecked: boolean;
}

export interface ReadOptions {
  /**
   * Write records yield their target and length only (empty data), and their data
   * is not read: in format version 1 they are not checksummed at all, in version 2
   * their header and block checksums are (then `layout` checks the bytes used).
   * Mark and zero records are read and checked whole.
   */
  headersOnly?: boolean;
  /**
   * Reads through one reused 1 MiB buffer instead of two reads per record: a
   * yielded record's data is then valid only until the next record is asked for.
   */
  streaming?: boolean;
}

export interface LogUsage {
  capacity: number;
  used: number;
  free: number;
  freeRatio: number;
  records: number;
}

export {nowMicros} from '../util/time.js';

/** Bytes the record takes in a volume of its format. */
function sizeIn(record: LogRecord, volume: LogVolume): number {
  return volume.header.version === 1 ? encodedSize(record) : encodedSizeV2(record, volume.header.blockSize);
}

const ZERO_PAGE = Buffer.alloc(64 * 1024);

function allZero(data: Buffer): boolean {
  for (let at = 0; at < data.length; at += ZERO_PAGE.length) {
    const piece = data.subarray(at, at + ZERO_PAGE.length);
    if (!piece.equals(ZERO_PAGE.subarray(0, piece.length))) return false;
  }
  return true;
}

/**
 * The record as a volume of its format stores it: in format 2 a write of nothing but
 * zeros (a discard replayed, a disk being wiped) is a zero record, with no data.
 */
function storedIn(record: LogRecord, volume: LogVolume): LogRecord {
  if (volume.header.version === 1 || record.kind !== 'write' || !allZero(record.data)) return record;
  return {kind: 'zero', logId: record.logId, timer: record.timer, ldev: record.ldev, address: record.address, length: record.data.length};
}

/** Record bytes waiting to be written: runs of pieces that lie one after the other in a volume. */
class PendingWrites {
  private run: {volume: LogVolume; address: number; end: number; pieces: Uint8Array[]} | undefined;

  add(volume: LogVolume, address: number, pieces: Uint8Array[]): void {
    if (this.run && (this.run.volume !== volume || this.run.end !== address)) this.flush();
    this.run ??= {volume, address, end: address, pieces: []};
    for (const piece of pieces) {
      this.run.pieces.push(piece);
      this.run.end += piece.length;
    }
  }

  private flush(): void {
    if (!this.run) return;
    const {volume, address, pieces} = this.run;
    this.run = undefined;
    volume.image.writePieces(address, pieces);
  }

  /** Writes what is pending, then every volume's staged header; a header is written only if every byte before it was. */
  finish(volumes: LogVolume[]): void {
    try {
      this.flush();
    } catch (error) {
      for (const volume of volumes) volume.discardStaged();
      throw error;
    }
    for (const volume of volumes) volume.commitHeader();
  }
}

export class Journal {
  private constructor(readonly group: LogGroupRow, readonly volumes: LogVolume[]) {}

  static open(site: Site, tables: Tables, group: LogGroupRow): Journal {
    const volumes = group.logVolumes.map(ldev => {
      const volume = LogVolume.open(site.image(site.volume(tables, ldev)), site.lock.hold);
      const h = volume.header;
      // A header that names another group, volume or site is someone else's log.
      if (h.group !== group.group || h.ldev !== ldev || h.siteId !== tables.site.id.slice(0, 16)) {
        throw new CorruptLogError(`log volume ${ldev} at ${tables.site.name} holds the log of group ${h.group}, LDEV ${h.ldev}, site ${h.siteId || '?'}; its tables say group ${group.group}`,
          'the volume was replaced or attached by hand; detach it, or restore the right image');
      }
      return volume;
    });
    return new Journal(group, volumes);
  }

  lastLogId(): number {
    return Math.max(0, ...this.volumes.map(v => v.header.newestLogId));
  }

  private lastTimer(): number {
    return Math.max(0, ...this.volumes.map(v => v.header.newestLogTime));
  }

  /** The volume that receives the next record: the last one holding records, or the first. */
  private tailIndex(): number {
    for (let i = this.volumes.length - 1; i >= 0; i--) if (this.volumes[i].header.records > 0) return i;
    return 0;
  }

  /**
   * Appends records in order; throws LogFullError before writing anything that does
   * not fit (the records before it are appended). Records that lie one after the
   * other in a volume are written in one system call, and each volume's header once,
   * after their bytes.
   */
  append(entries: NewEntry[]): Appended[] {
    const out: Appended[] = [];
    let logId = this.lastLogId();
    let timer = this.lastTimer();
    const writes = new PendingWrites();
    try {
      for (const entry of entries) {
        logId += 1;
        timer = Math.max(timer, nowMicros());
        const record: LogRecord = entry.kind === 'write'
          ? {kind: 'write', logId, timer, ldev: entry.ldev, address: entry.address, data: Buffer.from(entry.data.buffer, entry.data.byteOffset, entry.data.length)}
          : entry.kind === 'zero' ? {kind: 'zero', logId, timer, ldev: entry.ldev, address: entry.address, length: entry.length}
            : {kind: 'mark', logId, timer, logAddress: 0, markId: entry.markId, markTime: entry.markTime, app: entry.app};
        // A record's size depends on its volume's format, and where it goes on its size: the
        // tail volume is asked first in its own format, then an empty next one in its own.
        const {volume, address, wraps, size, stored} = this.placeFor(record);
        if (stored.kind === 'mark') stored.logAddress = address;
        const h = volume.header;
        writes.add(volume, address, h.version === 1 ? encodeRecordPieces(stored) : encodeRecordPiecesV2(stored, h.epoch, h.blockSize));
        const first = h.records === 0;
        volume.stageHeader({
          tail: address + size,
          records: h.records + 1,
          newestLogId: logId, newestLogTime: timer, newestLogAddress: address,
          ...(first ? {oldestLogId: logId, oldestLogTime: timer, oldestLogAddress: address, start: address, wrap: 0} : {}),
          ...(wraps ? {wrap: h.tail} : {}),
          ...(stored.kind === 'mark' ? {
            marks: h.marks + 1, newestMarkId: stored.markId, newestMarkTime: stored.markTime, newestMarkAddress: address,
            ...(h.marks === 0 ? {oldestMarkId: stored.markId, oldestMarkTime: stored.markTime, oldestMarkAddress: address} : {}),
          } : {}),
        });
        out.push({logId, timer, logLdev: volume.header.ldev, address});
      }
    } finally {
      // The bytes of every record placed, then the headers that name them, even when a later one did not fit.
      writes.finish(this.volumes);
    }
    return out;
  }

  private placeFor(record: LogRecord): {volume: LogVolume; address: number; wraps: boolean; size: number; stored: LogRecord} {
    const index = this.tailIndex();
    const tail = this.volumes[index];
    const inTail = storedIn(record, tail);
    const sizeInTail = sizeIn(inTail, tail);
    const here = tail.placeFor(sizeInTail);
    if (here) return {volume: tail, ...here, size: sizeInTail, stored: inTail};
    const next = this.volumes[index + 1];
    if (next && next.header.records === 0) {
      const inNext = storedIn(record, next);
      const sizeInNext = sizeIn(inNext, next);
      const there = next.placeFor(sizeInNext);
      if (there) return {volume: next, ...there, size: sizeInNext, stored: inNext};
    }
    const usage = this.usage();
    throw new LogFullError(`log group ${this.group.group} is full (${usage.free} of ${usage.capacity} bytes free, the record needs ${sizeInTail})`,
      'apply the log up to a mark (`marklog log apply`) or add a pool volume (`marklog log extend`)');
  }

  usage(): LogUsage {
    let capacity = 0;
    let used = 0;
    let records = 0;
    const tail = this.tailIndex();
    let free = 0;
    this.volumes.forEach((v, i) => {
      capacity += v.dataCapacity;
      used += v.used;
      records += v.header.records;
      // The tail volume's free space and every empty volume after it take new
      // records; an older volume's applied space comes back when it empties.
      if (i === tail || (i > tail && v.header.records === 0)) free += v.free;
    });
    return {capacity, used, free, freeRatio: capacity === 0 ? 0 : free / capacity, records};
  }

  /**
   * Reads every live record in log order. Damage is reported through onCorruption
   * and the rest of that volume is not trusted; log IDs must rise strictly.
   */
  *records(onCorruption: (damage: Corruption) => void = () => {}, options: ReadOptions = {}): Generator<LocatedRecord> {
    // Log IDs run +1 from the oldest live record: any other ID is a record out of
    // place (copied, dropped, reordered), even when its own checksum is good.
    let expected = this.volumes.find(v => v.header.records > 0)?.header.oldestLogId;
    for (const volume of this.volumes) {
      const {ldev} = volume.header;
      const window = options.streaming ? new ReadWindow(volume.image) : undefined;
      // Headers only: nothing yielded keeps the bytes read, so one scratch buffer serves every read.
      const scratch = options.headersOnly && !window ? new ScratchReader(volume.image) : undefined;
      const readAt = (at: number, length: number) => window ? window.read(at, length) : scratch ? scratch.read(at, length) : volume.image.read(at, length);
      for (const {from, to: tail} of volume.segments()) {
        let offset = from;
        while (offset < tail) {
          const parsed = parseRecord(readAt, offset, tail, volume.header, options.headersOnly === true);
          if ('reason' in parsed) {
            // The damaged header's own log ID cannot be trusted; name the one it should hold.
            onCorruption({logLdev: ldev, offset, logId: expected, reason: parsed.reason});
            // Without a length that can be trusted, the rest of the range is not read.
            if (parsed.size === undefined) break;
            if (expected !== undefined) expected++;
            offset += parsed.size;
            continue;
          }
          const {record, size} = parsed;
          if (expected !== undefined && record.logId < expected) {
            onCorruption({logLdev: ldev, offset, logId: record.logId, reason: 'log id not increasing'});
            offset += size;
            continue;
          }
          if (expected !== undefined && record.logId > expected) onCorruption({logLdev: ldev, offset, logId: record.logId, reason: 'log id gap'});
          expected = record.logId + 1;
          yield {record, logLdev: ldev, address: offset, dataOffset: parsed.dataOffset, dataLength: parsed.dataLength, layout: parsed.layout, dataChecked: parsed.dataChecked};
          offset += size;
        }
      }
      const lost = volume.damageAfterTail;
      if (lost) {
        onCorruption({logLdev: ldev, offset: lost.offset, logId: expected ?? lost.logId, reason: lost.reason});
        if (expected !== undefined) expected++;
      }
    }
  }

  /** Every readable mark record, in log order (damage is for `verify` and restore to report). */
  marks(onCorruption?: (damage: Corruption) => void): (MarkRecord & {logLdev: number; address: number})[] {
    const out: (MarkRecord & {logLdev: number; address: number})[] = [];
    // Streaming: the log is read in large windows, not two reads per record (mark list of 10,000 marks).
    for (const {record, logLdev, address} of this.records(onCorruption, {streaming: true})) {
      if (record.kind === 'mark') out.push({...record, logLdev, address});
    }
    return out;
  }

  /**
   * Drops every record whose log ID is below `logId` (they have been applied to
   * the base). Emptied volumes move to the end of the fill order; in the volume
   * that still holds live records the start moves up, and the space before it is
   * reused once the tail wraps. Records never move, so their addresses hold.
   * Returns the new fill order.
   */
  consumeBefore(logId: number): number[] {
    const emptied: LogVolume[] = [];
    const kept: LogVolume[] = [];
    for (const volume of this.volumes) {
      const h = volume.header;
      if (h.records === 0 || h.newestLogId < logId) {
        emptied.push(h.records === 0 ? volume : LogVolume.format(volume.image, {
          group: h.group, place: h.place, ldev: h.ldev, baseGeneration: h.baseGeneration, siteId: h.siteId, lastLogId: h.newestLogId,
        }));
        continue;
      }
      if (h.oldestLogId < logId) this.dropBefore(volume, logId);
      kept.push(volume);
    }
    const order = [...kept, ...emptied];
    order.forEach((volume, place) => {
      if (volume.header.place !== place) volume.writeHeader({place});
    });
    this.volumes.splice(0, this.volumes.length, ...order);
    return order.map(v => v.header.ldev);
  }

  private dropBefore(volume: LogVolume, logId: number): void {
    const live: LocatedRecord[] = [];
    for (const located of this.records()) {
      if (located.logLdev === volume.header.ldev && located.record.logId >= logId) live.push(located);
    }
    const first = live[0];
    const h = volume.header;
    // A new start in the wrapped-around part leaves a volume that no longer wraps.
    const unwraps = volume.wrapped && first.address < h.start;
    const marks = live.filter(l => l.record.kind === 'mark') as (LocatedRecord & {record: MarkRecord})[];
    volume.writeHeader({
      start: first.address,
      ...(unwraps ? {wrap: 0} : {}),
      records: live.length,
      oldestLogId: first.record.logId, oldestLogTime: first.record.timer, oldestLogAddress: first.address,
      marks: marks.length,
      ...(marks.length > 0
        ? {oldestMarkId: marks[0].record.markId, oldestMarkTime: marks[0].record.markTime, oldestMarkAddress: marks[0].address}
        : {oldestMarkId: 0, oldestMarkTime: 0, oldestMarkAddress: 0, newestMarkId: 0, newestMarkTime: 0, newestMarkAddress: 0}),
    });
  }

  /** Stamps every header with the base generation the log now applies to. */
  stampBase(baseGeneration: number): void {
    for (const volume of this.volumes) {
      if (volume.header.baseGeneration !== baseGeneration) volume.writeHeader({baseGeneration});
    }
  }

  static readonly dataStart = LOG_DATA_START;
}
