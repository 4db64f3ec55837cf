// One log volume (patent: log volume 140): a volume image that starts with the two
// header slots of docs/FORMAT.md §4.1 and holds records after them. Every header
// update goes to the other slot, so a crash mid-update leaves the previous header.
import {CorruptLogError} from '../errors.js';
import {
  encodeLogHeader, logHeaderSlotOffset, pickLogHeader, LOG_DATA_START, type LogHeaderFields,
} from '../format/log-format.js';
import type {VolumeImage} from '../volume/image.js';

export class LogVolume {
  private current: LogHeaderFields;

  private constructor(readonly image: VolumeImage, header: LogHeaderFields) {
    this.current = header;
  }

  static open(image: VolumeImage): LogVolume {
    const decoded = pickLogHeader(image.read(0, LOG_DATA_START));
    if ('reason' in decoded) {
      throw new CorruptLogError(`log volume ${image.file}: ${decoded.reason}`, 'run `marklog verify`');
    }
    return new LogVolume(image, decoded.fields);
  }

  /** Writes an empty log header (the volume's old contents become unreachable). */
  static format(image: VolumeImage, fields: Pick<LogHeaderFields, 'group' | 'place' | 'ldev' | 'baseGeneration' | 'siteId'> & {lastLogId: number}): LogVolume {
    const previous = pickLogHeader(image.read(0, LOG_DATA_START));
    // Without a valid header, stale bytes in either slot must not outrank the new one.
    if ('reason' in previous) image.write(0, Buffer.alloc(LOG_DATA_START));
    const sequence = 'fields' in previous ? previous.fields.sequence + 1 : 1;
    const header: LogHeaderFields = {
      group: fields.group, place: fields.place, ldev: fields.ldev, capacity: image.capacity, baseGeneration: fields.baseGeneration,
      start: LOG_DATA_START, tail: LOG_DATA_START, records: 0,
      oldestLogId: 0, oldestLogTime: 0, oldestLogAddress: 0,
      newestLogId: fields.lastLogId, newestLogTime: 0, newestLogAddress: 0,
      oldestMarkId: 0, oldestMarkTime: 0, oldestMarkAddress: 0, newestMarkId: 0, newestMarkTime: 0, newestMarkAddress: 0, marks: 0,
      siteId: fields.siteId, wrap: 0, sequence,
    };
    image.write(logHeaderSlotOffset(sequence), encodeLogHeader(header));
    return new LogVolume(image, header);
  }

  get header(): Readonly<LogHeaderFields> {
    return this.current;
  }

  writeHeader(change: Partial<LogHeaderFields>): void {
    this.current = {...this.current, ...change, sequence: this.current.sequence + 1};
    this.image.write(logHeaderSlotOffset(this.current.sequence), encodeLogHeader(this.current));
  }

  get wrapped(): boolean {
    return this.current.wrap !== 0;
  }

  /**
   * Where a record of `size` bytes goes next: after the tail, or — when it does
   * not fit there — wrapped to the front, before the oldest live record.
   * Undefined when neither has room.
   */
  placeFor(size: number): {address: number; wraps: boolean} | undefined {
    const h = this.current;
    if (h.records === 0) return LOG_DATA_START + size <= h.capacity ? {address: LOG_DATA_START, wraps: false} : undefined;
    if (this.wrapped) return h.tail + size <= h.start ? {address: h.tail, wraps: false} : undefined;
    if (h.tail + size <= h.capacity) return {address: h.tail, wraps: false};
    if (LOG_DATA_START + size <= h.start) return {address: LOG_DATA_START, wraps: true};
    return undefined;
  }

  /** Bytes still free for records (after the tail, and in front of the oldest record). */
  get free(): number {
    const h = this.current;
    if (h.records === 0) return this.dataCapacity;
    return this.wrapped ? h.start - h.tail : h.capacity - h.tail + (h.start - LOG_DATA_START);
  }

  get used(): number {
    const h = this.current;
    if (h.records === 0) return 0;
    return this.wrapped ? h.wrap - h.start + (h.tail - LOG_DATA_START) : h.tail - h.start;
  }

  /** The byte ranges holding live records, in log order. */
  segments(): {from: number; to: number}[] {
    const h = this.current;
    if (h.records === 0) return [];
    return this.wrapped ? [{from: h.start, to: h.wrap}, {from: LOG_DATA_START, to: h.tail}] : [{from: h.start, to: h.tail}];
  }

  get dataCapacity(): number {
    return this.current.capacity - LOG_DATA_START;
  }
}
