// One log volume (patent: log volume 140): a volume image that starts with the two
// header slots of docs/FORMAT.md §4.1 and holds records after them. Every header
// update goes to the other slot, so a crash mid-update leaves the previous header.
import {CorruptLogError} from '../errors.js';
import {nowMicros} from '../util/time.js';
import {fsx} from '../native/fsx.js';
import {decodeLogHeader} from '../format/log-format.js';
import {
  encodeLogHeader, encodeLogHeaderInto, logHeaderSlotOffset, pickLogHeader,
  LOG_BLOCK_SIZE, LOG_DATA_START, LOG_HEADER_SIZE, LOG_VERSION, RECORD_MAGIC, RecordHeader, type LogHeaderFields, type LogRecord,
} from '../format/log-format.js';
import {RECORD_HEADER_SIZE_V2} from '../format/log-record-v2.js';
import {headerSizeOf, parseRecord} from './record-reader.js';

/** True when the slot the next update would use holds bytes that are not a valid header (and not blank). */
function otherSlotDamaged(front: Buffer, sequence: number): boolean {
  const at = logHeaderSlotOffset(sequence + 1);
  const slot = front.subarray(at, at + LOG_HEADER_SIZE);
  if (slot.every(byte => byte === 0)) return false;
  return 'reason' in decodeLogHeader(slot, (sequence + 1) % 2);
}
import type {VolumeImage} from '../volume/image.js';

export interface TailDamage {
  offset: number;
  logId: number;
  reason: string;
}

/**
 * The format of volumes formatted from now on: version 2, or version 1 with
 * MARKLOG_LOG_FORMAT=1 for a remote an older marklog must still read (OPERATING.md).
 */
function newLogVersion(): 1 | 2 {
  return process.env.MARKLOG_LOG_FORMAT === '1' ? 1 : LOG_VERSION;
}

/** The two header slots of each log volume written to by this process, mapped (see frontOf). */
const mappedFronts = new WeakMap<VolumeImage, Buffer>();

/**
 * The header slots as a mapping: a header update per record is then a store, not
 * a system call. Callers hold the site lock. Both slots are first written once
 * with what they hold, so no store into the mapping has to allocate a block.
 */
function frontOf(image: VolumeImage): Buffer {
  let front = mappedFronts.get(image);
  if (!front) {
    image.write(0, image.read(0, LOG_DATA_START));
    front = fsx.mapShared(image.fd, 0, LOG_DATA_START);
    mappedFronts.set(image, front);
  }
  return front;
}

/**
 * The last front read of each log volume whose header slots were both sound, and the
 * header it decoded to: most holds of the lock find the front as the last one left it.
 */
const decodedFronts = new WeakMap<VolumeImage, {front: Buffer; fields: Readonly<LogHeaderFields>}>();

/** The volume read under a hold of the site lock, reused while that hold lasts (see FileLock.hold). */
const openUnderHold = new WeakMap<VolumeImage, {hold: number; volume: LogVolume}>();

export class LogVolume {
  private current: LogHeaderFields;
  /** The header as last written, while changes to it are staged and not yet written (stageHeader). */
  private committed: LogHeaderFields | undefined;

  /** Records found complete past the tail of an older header slot and taken back (see open): 0 or 1. */
  recoveredRecords = 0;

  /** A damaged record found where the next one after the tail would be, when the newer header slot was lost. */
  damageAfterTail: TailDamage | undefined;

  /** The slot the next header update would use is torn or damaged: the header in use may be one update behind. */
  headerSlotDamaged = false;

  private constructor(readonly image: VolumeImage, header: LogHeaderFields) {
    this.current = header;
  }

  /**
   * The volume's header as it is now. `hold` is the number of the site lock's
   * current hold: within it, the handle read before is still the truth (every
   * update in between went through it) and no read is needed.
   */
  static open(image: VolumeImage, hold = 0): LogVolume {
    const known = hold === 0 ? undefined : openUnderHold.get(image);
    if (known?.hold === hold) return known.volume;
    const volume = LogVolume.read(image);
    if (hold !== 0) openUnderHold.set(image, {hold, volume});
    return volume;
  }

  private static read(image: VolumeImage): LogVolume {
    const front = image.read(0, LOG_DATA_START);
    // The header decoded is a function of these bytes alone: unchanged bytes, the same header.
    const known = decodedFronts.get(image);
    if (known?.front.equals(front)) return new LogVolume(image, known.fields);
    const decoded = pickLogHeader(front);
    if ('reason' in decoded) {
      throw new CorruptLogError(`log volume ${image.file}: ${decoded.reason}`, 'run `marklog verify`');
    }
    const volume = new LogVolume(image, decoded.fields);
    if (!otherSlotDamaged(front, decoded.fields.sequence)) {
      decodedFronts.set(image, {front, fields: Object.freeze(decoded.fields)});
    } else {
      volume.headerSlotDamaged = true;
      volume.rollForward();
    }
    return volume;
  }

  /**
   * The newer header slot is unreadable (torn by a crash, or damaged), so the
   * header in use may be one update behind: take back the record that follows
   * its tail, exactly as the lost update would have. One at most: every append
   * updates the header, so one lost update is one record, and whatever lies after
   * it is older (a record of the log before the last log start, with the same log
   * IDs, can sit exactly there). A record there that fails its checksum is kept as
   * damage for the reader to report: only the lost header knew of it.
   */
  private rollForward(): void {
    const h = this.current;
    const next = this.nextAfterTail(h);
    if (next === undefined) return;
    if ('damage' in next) {
      this.damageAfterTail = next.damage;
      return;
    }
    const {at, size, record, wraps} = next;
    const first = h.records === 0;
    this.current = {
      ...h,
      tail: at + size, records: h.records + 1,
      ...(wraps ? {wrap: h.tail} : {}),
      newestLogId: record.logId, newestLogTime: record.timer, newestLogAddress: at,
      ...(first ? {start: at, oldestLogId: record.logId, oldestLogTime: record.timer, oldestLogAddress: at} : {}),
      ...(record.kind === 'mark' ? {
        marks: h.marks + 1, newestMarkId: record.markId, newestMarkTime: record.markTime, newestMarkAddress: at,
        ...(h.marks === 0 ? {oldestMarkId: record.markId, oldestMarkTime: record.markTime, oldestMarkAddress: at} : {}),
      } : {}),
    };
    this.recoveredRecords++;
  }

  /** Where an append after this header put its record: at the tail, or wrapped to the front when it did not fit (placeFor). */
  private nextAfterTail(h: LogHeaderFields): {at: number; size: number; record: LogRecord; wraps: boolean} | {damage: TailDamage} | undefined {
    const places = h.records === 0 ? [{at: LOG_DATA_START, limit: h.capacity, wraps: false}]
      : h.wrap !== 0 ? [{at: h.tail, limit: h.start, wraps: false}]
        : [{at: h.tail, limit: h.capacity, wraps: false}, {at: LOG_DATA_START, limit: h.start, wraps: true}];
    for (const {at, limit, wraps} of places) {
      // At the tail, a record whose checksum fails is the lost one whatever its log ID
      // field says (records left there earlier were whole); at the front, where old
      // records stay until overwritten, only one that names the next log ID.
      const found = this.recordAt(at, limit, h.newestLogId + 1, wraps);
      // A record that would have fitted at the tail was never wrapped to the front.
      if (found === undefined || (wraps && found.size > 0 && h.tail + found.size <= h.capacity)) continue;
      if ('reason' in found) return {damage: {offset: at, logId: h.newestLogId + 1, reason: found.reason}};
      return {at, size: found.size, record: found.record, wraps};
    }
    return undefined;
  }

  /**
   * The record at `at` if it carries `logId` and ends by `limit`: checked, or why
   * it is not good (size 0 when its own length cannot be trusted).
   */
  private recordAt(at: number, limit: number, logId: number, strictId: boolean): {size: number; record: LogRecord} | {size: number; reason: string} | undefined {
    const headerSize = headerSizeOf(this.current);
    if (at + headerSize > limit) return undefined;
    const parsed = parseRecord((offset, length) => this.image.read(offset, length), at, limit, this.current, false);
    if (!('reason' in parsed)) return parsed.record.logId === logId ? {size: parsed.size, record: parsed.record} : undefined;
    // Not a record of this volume's life, or not whole before the limit: not the lost one.
    if (parsed.reason === 'stale record' || parsed.reason === 'truncated record') return undefined;
    const head = this.image.read(at, headerSize);
    const magic = head.readUInt16LE(RecordHeader.magic) === RECORD_MAGIC;
    const named = magic && head.readBigUInt64LE(RecordHeader.logId) === BigInt(logId);
    // A header that cannot be trusted is that record, damaged: at the tail whenever it has the
    // record magic (only an append puts one there, so its damaged log ID proves nothing; found
    // by the fuzzer, seed 1496000017), in front of the start only with the expected log ID too.
    // With the magic damaged as well, nothing tells it from older bytes of a ring: the torn slot
    // itself stays the report (headerSlotDamaged; verify's warning, a restore's CORRUPT_LOG).
    if (parsed.size === undefined) return named || (magic && !strictId) ? {size: 0, reason: parsed.reason} : undefined;
    if (!named) return strictId ? undefined : {size: parsed.size, reason: 'checksum mismatch'};
    return {size: parsed.size, reason: parsed.reason};
  }

  /** Writes an empty log header (the volume's old contents become unreachable). */
  static format(image: VolumeImage, fields: Pick<LogHeaderFields, 'group' | 'place' | 'ldev' | 'baseGeneration' | 'siteId'> & {lastLogId: number}): LogVolume {
    openUnderHold.delete(image);
    const previous = pickLogHeader(image.read(0, LOG_DATA_START));
    // Without a valid header, stale bytes in either slot must not outrank the new one.
    if ('reason' in previous) image.write(0, Buffer.alloc(LOG_DATA_START));
    const sequence = 'fields' in previous ? previous.fields.sequence + 1 : 1;
    // The epoch every record of the new life carries: above the old one, so none of the old records passes for new.
    const epoch = Math.max(nowMicros(), ('fields' in previous ? previous.fields.epoch : 0) + 1);
    const version = newLogVersion();
    const header: LogHeaderFields = {
      version, epoch: version === 1 ? 0 : epoch, blockSize: version === 1 ? 0 : LOG_BLOCK_SIZE,
      group: fields.group, place: fields.place, ldev: fields.ldev, capacity: image.capacity, baseGeneration: fields.baseGeneration,
      start: LOG_DATA_START, tail: LOG_DATA_START, records: 0,
      oldestLogId: 0, oldestLogTime: 0, oldestLogAddress: 0,
      newestLogId: fields.lastLogId, newestLogTime: 0, newestLogAddress: 0,
      oldestMarkId: 0, oldestMarkTime: 0, oldestMarkAddress: 0, newestMarkId: 0, newestMarkTime: 0, newestMarkAddress: 0, marks: 0,
      siteId: fields.siteId, wrap: 0, sequence,
    };
    image.write(logHeaderSlotOffset(sequence), encodeLogHeader(header));
    // Records of the volume's earlier life (an old log, another group's) must never be
    // mistaken for new ones: they can carry the very log IDs the new log will use.
    // Dropped after the header, so a crash in between leaves them unreachable anyway.
    if (!image.deallocate(LOG_DATA_START, image.capacity - LOG_DATA_START)) image.write(LOG_DATA_START, Buffer.alloc(RECORD_HEADER_SIZE_V2));
    return new LogVolume(image, header);
  }

  get header(): Readonly<LogHeaderFields> {
    return this.current;
  }

  writeHeader(change: Partial<LogHeaderFields>): void {
    this.stageHeader(change);
    this.commitHeader();
  }

  /**
   * Changes the header as this handle sees it (placeFor, free, …) without writing it:
   * an append of many records writes their data first, then the header once
   * (commitHeader), so the header never names a record whose bytes are not there.
   */
  stageHeader(change: Partial<LogHeaderFields>): void {
    this.committed ??= this.current;
    this.current = {...this.current, ...change};
  }

  /** Forgets the staged changes: the records they named were not written. */
  discardStaged(): void {
    if (this.committed) this.current = this.committed;
    this.committed = undefined;
  }

  /** Writes the staged header into the next slot (nothing when nothing is staged). */
  commitHeader(): void {
    if (!this.committed) return;
    this.committed = undefined;
    this.current = {...this.current, sequence: this.current.sequence + 1};
    const slot = logHeaderSlotOffset(this.current.sequence);
    const front = frontOf(this.image);
    encodeLogHeaderInto(this.current, front.subarray(slot, slot + LOG_HEADER_SIZE));
    // Both slots are sound now (this one just written, the other the header before it),
    // and they decode to the header as this handle has it.
    decodedFronts.set(this.image, {front: Buffer.from(front), fields: Object.freeze(this.current)});
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
