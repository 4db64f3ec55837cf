// The log of one log group (patent Figs. 8, 10, 11, 12, 13): its log volumes in
// fill order, appends with the next log ID, and an in-order reader that reports
// damage instead of guessing past it. Callers hold the lock of the site holding it.
import {CorruptLogError, LogFullError} from '../errors.js';
import {
  decodeRecordData, decodeRecordHeader, encodeRecordPieces, encodedSize, recordCrc, LOG_DATA_START, RECORD_HEADER_SIZE, RecordType, WRITE_DATA_HEADER, alignRecord,
  type LogRecord, type MarkRecord,
} from '../format/log-format.js';
import {LogVolume} from './log-volume.js';
import type {Site} from '../site/site.js';
import type {VolumeImage} from '../volume/image.js';
import type {LogGroupRow, Tables} from '../site/tables.js';

export type NewEntry =
  | {kind: 'write'; ldev: number; address: number; data: Uint8Array}
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
  /** Bytes of the record's data area (for a write: 16 bytes of target, then the data). */
  dataLength: number;
}

export interface ReadOptions {
  /**
   * Write records yield their target and length only (empty data) and are not
   * checksummed, so their data is not read; mark records are read and checked
   * whole. For planning a pass that then reads and checks every write record.
   */
  headersOnly?: boolean;
  /**
   * Reads through one reused 4 MiB buffer instead of two reads per record: a
   * yielded record's data is then valid only until the next record is asked for.
   */
  streaming?: boolean;
}

const STREAM_WINDOW = 4 * 1024 * 1024;

/** Sequential reads of one volume served from a reused buffer, refilled from the first byte asked for. */
class ReadWindow {
  private buffer: Buffer | undefined;
  private start = 0;
  private length = 0;

  constructor(private readonly image: VolumeImage) {}

  read(offset: number, length: number): Buffer {
    if (this.buffer === undefined || offset < this.start || offset + length > this.start + this.length) {
      const want = Math.min(Math.max(STREAM_WINDOW, length), this.image.capacity - offset);
      if (this.buffer === undefined || this.buffer.length < want) this.buffer = Buffer.allocUnsafe(want);
      this.image.readInto(offset, this.buffer, want);
      this.start = offset;
      this.length = want;
    }
    return this.buffer.subarray(offset - this.start, offset - this.start + length);
  }
}

export interface LogUsage {
  capacity: number;
  used: number;
  free: number;
  freeRatio: number;
  records: number;
}

export function nowMicros(): number {
  return Date.now() * 1000;
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

  /** Appends records in order; throws LogFullError before writing anything that does not fit. */
  append(entries: NewEntry[]): Appended[] {
    const out: Appended[] = [];
    let logId = this.lastLogId();
    let timer = this.lastTimer();
    for (const entry of entries) {
      logId += 1;
      timer = Math.max(timer, nowMicros());
      const record: LogRecord = entry.kind === 'write'
        ? {kind: 'write', logId, timer, ldev: entry.ldev, address: entry.address, data: Buffer.from(entry.data.buffer, entry.data.byteOffset, entry.data.length)}
        : {kind: 'mark', logId, timer, logAddress: 0, markId: entry.markId, markTime: entry.markTime, app: entry.app};
      const size = encodedSize(record);
      const {volume, address, wraps} = this.placeFor(size);
      if (record.kind === 'mark') record.logAddress = address;
      volume.image.writePieces(address, encodeRecordPieces(record));
      const h = volume.header;
      const first = h.records === 0;
      volume.writeHeader({
        tail: address + size,
        records: h.records + 1,
        newestLogId: logId, newestLogTime: timer, newestLogAddress: address,
        ...(first ? {oldestLogId: logId, oldestLogTime: timer, oldestLogAddress: address, start: address, wrap: 0} : {}),
        ...(wraps ? {wrap: h.tail} : {}),
        ...(record.kind === 'mark' ? {
          marks: h.marks + 1, newestMarkId: record.markId, newestMarkTime: record.markTime, newestMarkAddress: address,
          ...(h.marks === 0 ? {oldestMarkId: record.markId, oldestMarkTime: record.markTime, oldestMarkAddress: address} : {}),
        } : {}),
      });
      out.push({logId, timer, logLdev: volume.header.ldev, address});
    }
    return out;
  }

  private placeFor(size: number): {volume: LogVolume; address: number; wraps: boolean} {
    const index = this.tailIndex();
    const here = this.volumes[index].placeFor(size);
    if (here) return {volume: this.volumes[index], ...here};
    const next = this.volumes[index + 1];
    const there = next && next.header.records === 0 ? next.placeFor(size) : undefined;
    if (there) return {volume: next, ...there};
    const usage = this.usage();
    throw new LogFullError(`log group ${this.group.group} is full (${usage.free} of ${usage.capacity} bytes free, the record needs ${size})`,
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
      const readAt = (at: number, length: number) => window ? window.read(at, length) : volume.image.read(at, length);
      for (const {from, to: tail} of volume.segments()) {
        let offset = from;
        while (offset < tail) {
          const report = (reason: string, logId?: number) => onCorruption({logLdev: ldev, offset, logId, reason});
          if (tail - offset < RECORD_HEADER_SIZE) {
            report('truncated record', expected);
            break;
          }
          // Reading headers only, the write data header comes in the same read.
          const peek = readAt(offset, Math.min(tail - offset, RECORD_HEADER_SIZE + (options.headersOnly ? WRITE_DATA_HEADER : 0)));
          const decoded = decodeRecordHeader(peek.subarray(0, RECORD_HEADER_SIZE));
          if ('reason' in decoded) {
            report(decoded.reason, expected);
            break;
          }
          const {frame} = decoded;
          const size = alignRecord(RECORD_HEADER_SIZE + frame.dataLength);
          if (offset + size > tail) {
            report('truncated record', expected);
            break;
          }
          const unchecked = options.headersOnly === true && frame.type === RecordType.write;
          // Header and data in one read (with a window, a refill starts at this record).
          const wanted = RECORD_HEADER_SIZE + (unchecked ? WRITE_DATA_HEADER : frame.dataLength);
          const whole = peek.length >= wanted ? peek.subarray(0, wanted) : readAt(offset, wanted);
          const headerBytes = whole.subarray(0, RECORD_HEADER_SIZE);
          const data = whole.subarray(RECORD_HEADER_SIZE);
          if (!unchecked && recordCrc(headerBytes, data) !== frame.crc) {
            // The damaged header's own log ID cannot be trusted; name the one it should hold.
            report('checksum mismatch', expected);
            if (expected !== undefined) expected++;
            offset += size;
            continue;
          }
          const record = decodeRecordData(frame, data);
          if ('reason' in record) {
            report(record.reason, expected);
            if (expected !== undefined) expected++;
            offset += size;
            continue;
          }
          if (expected !== undefined && frame.logId < expected) {
            report('log id not increasing', frame.logId);
            offset += size;
            continue;
          }
          if (expected !== undefined && frame.logId > expected) report('log id gap', frame.logId);
          expected = frame.logId + 1;
          yield {record, logLdev: ldev, address: offset, dataLength: frame.dataLength};
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
