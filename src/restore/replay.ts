// Building a volume as base + log up to a mark (patent Fig. 23): clone the base
// image into the target, then write every record before the mark, in log order.
import {fsx} from '../native/fsx.js';
import {badBlock} from '../format/log-record-v2.js';
import {ReadWindow, ScratchReader} from '../log/read-window.js';
import {corruptionError} from './locate.js';
import {ZEROS, type LogScan, type ScannedWrite} from './scan.js';
import {CorruptLogError} from '../errors.js';
import {ExtentColumns, resolveLastWriter} from './final-extents.js';
import {Field, STRIDE} from './write-list.js';
import type {WriteRecord, ZeroRecord} from '../format/log-format.js';
import type {VolumeImage} from '../volume/image.js';

/** Copies a base image into a target of at least its size, sparse-aware: holes stay holes. */
export function cloneImage(source: VolumeImage, target: VolumeImage): void {
  let offset = 0;
  while (offset < source.capacity) {
    const dataAt = source.nextData(offset);
    if (dataAt > offset) target.zero(offset, dataAt - offset);
    if (dataAt >= source.capacity) break;
    const holeAt = source.nextHole(dataAt);
    let done = 0;
    while (done < holeAt - dataAt) {
      const length = holeAt - dataAt - done;
      const copied = fsx.copyRange(source.fd, dataAt + done, target.fd, dataAt + done, length);
      if (copied > 0) {
        done += copied;
        continue;
      }
      const piece = Math.min(length, 8 * 1024 * 1024);
      target.write(dataAt + done, source.read(dataAt + done, piece));
      done += piece;
    }
    offset = holeAt;
  }
  if (target.capacity > source.capacity) target.zero(source.capacity, target.capacity - source.capacity);
}

export interface ReplayResult {
  /** Write records before the mark for these targets. */
  records: number;
  /** Bytes those records carry. */
  bytes: number;
  /** Bytes written to the targets: with coalescing, each final byte once. */
  written: number;
}

/**
 * Brings each target (R-VOL LDEV → image) to base + every write record below log
 * ID `upto`. By default the log is read once, in order, into an extent map (last
 * writer wins) and each final byte is then written once, in target order; with
 * `coalesce: false` every record is written in log order (the naive replay, kept
 * for comparison in the benchmarks). `verified`: the caller has checked every
 * record's data below `upto` itself (replayVerifying), so none is checked again.
 */
export function replayUpTo(scan: LogScan, upto: number, targets: Map<number, VolumeImage>, options: {coalesce?: boolean; what?: string; verified?: boolean} = {}): ReplayResult {
  const result: ReplayResult = {records: 0, bytes: 0, written: 0};
  const logImages = new Map(scan.journal.volumes.map(v => [v.header.ldev, v.image]));
  const what = options.what ?? `log ID ${upto}`;
  const checking = !scan.checked && !options.verified;
  if (options.coalesce === false) {
    for (const write of writesFor(scan, upto, targets, result)) {
      const target = targets.get(write.ldev)!;
      if (write.logLdev === ZEROS) target.zero(write.address, write.length);
      else target.write(write.address, checking ? checkedBytes(scan, write, write.source, write.length, logImages, what) : logImages.get(write.logLdev)!.read(write.source, write.length));
      result.written += write.length;
    }
    return result;
  }
  countWrites(scan, upto, targets, result);
  const reader = new BlockReader();
  // One write object filled again for each checked extent: a million extents make no garbage.
  const slot = {} as ScannedWrite;
  const [pieces, extents] = [new ExtentColumns(PLAN_PIECES), new ExtentColumns(PLAN_PIECES)];
  for (const [ldev, target] of targets) {
    for (const range of planRanges(scan, upto, ldev, target.capacity)) {
      finalExtentsOf(scan, upto, ldev, range, pieces, extents);
      let order: Uint32Array | undefined;
      // Extents that are read and checked go in log order, so the log is read front to back.
      if (checking) {
        order = extents.order(extents.logLdev, extents.source);
        // Whole blocks are read around an extent: its record's data end bounds them.
        for (const i of order) {
          const log = logImages.get(extents.logLdev[i]);
          if (log) reader.limits.set(log, Math.max(reader.limits.get(log) ?? 0, scan.writes.dataEndAt(extents.write[i])));
        }
      }
      for (let k = 0; k < extents.count; k++) {
        const i = order ? order[k] : k;
        copyExtent(scan, extents, i, target, logImages, checking ? reader : undefined, what, slot);
        result.written += extents.end[i] - extents.start[i];
      }
    }
  }
  return result;
}

/** Writes final extent `i` into its target: zeros, checked blocks (`reader`), or an in-kernel copy of checked bytes. */
function copyExtent(scan: LogScan, extents: ExtentColumns, i: number, target: VolumeImage, logImages: Map<number, VolumeImage>, reader: BlockReader | undefined, what: string, slot: ScannedWrite): void {
  const start = extents.start[i];
  const source = extents.source[i];
  const logLdev = extents.logLdev[i];
  const length = extents.end[i] - start;
  target.checkRange(start, length);
  if (logLdev === ZEROS) {
    target.zero(start, length);
    return;
  }
  if (reader) {
    // A format 2 write planned from its header: only the blocks this extent uses are read and checked.
    target.write(start, checkedBytes(scan, scan.writes.at(extents.write[i], slot), source, length, logImages, what, reader));
    return;
  }
  // In-kernel where the file systems allow; the checksums were verified already.
  const log = logImages.get(logLdev)!;
  const copied = fsx.copyRange(log.fd, source, target.fd, start, length);
  if (copied < length) target.write(start + copied, log.read(source + copied, length - copied));
}

/**
 * `length` bytes of a write from `source` in the log: read as they are when the
 * scan checked them, or read with the whole data blocks around them and checked
 * against the record's block CRCs (format 2). Damage throws CorruptLogError.
 */
function checkedBytes(scan: LogScan, write: ScannedWrite, source: number, length: number, logImages: Map<number, VolumeImage>, what: string, reader = new BlockReader()): Buffer {
  const log = logImages.get(write.logLdev)!;
  if (write.dataChecked) return log.read(source, length);
  // A format 1 write planned from its header cannot be checked here: replayVerifying is its path.
  if (!write.layout) throw new Error(`write record ${write.logId} was planned unchecked and has no block checksums`);
  const {blockSize} = write.layout;
  const first = Math.floor((source - write.source) / blockSize);
  const end = Math.min(write.length, Math.ceil((source - write.source + length) / blockSize) * blockSize);
  const blocks = reader.read(log, write.source + first * blockSize, end - first * blockSize);
  const bad = badBlock(blocks, write.layout, first);
  if (bad !== -1) {
    throw corruptionError(scan.journal, {logLdev: write.logLdev, offset: write.recordAt, logId: write.logId, reason: `checksum mismatch in data block ${bad}`}, what);
  }
  const from = source - write.source - first * blockSize;
  return blocks.subarray(from, from + length);
}

/**
 * Reads a log volume for checked copies. Extents come in log order: where they follow
 * one another closely (most of the log survives) they are served from a window of a
 * few MiB, one read for many records; where they are far apart (most was overwritten)
 * each is read alone, so the bytes in between are never read. No buffer per extent.
 */
class BlockReader {
  private readonly windows = new Map<VolumeImage, {window: ReadWindow; alone: ScratchReader; end: number}>();
  /** Per log volume, where the last byte any extent needs ends: no read goes past it. */
  readonly limits = new Map<VolumeImage, number>();

  read(image: VolumeImage, offset: number, length: number): Buffer {
    let state = this.windows.get(image);
    if (!state) this.windows.set(image, (state = {window: new ReadWindow(image), alone: new ScratchReader(image), end: -Infinity}));
    const close = offset >= state.end && offset - state.end <= NEAR;
    state.end = offset + length;
    if (close) return state.window.read(offset, length, this.limits.get(image));
    return state.alone.read(offset, length);
  }
}

/**
 * How far apart two extents may lie in the log and still be read through one
 * window. Past it the bytes between cost more to read than a system call: with a
 * million random 512-byte records planned in 32 ranges, each range's extents lie
 * ~17 KiB apart, and a window would read the whole log once per range.
 */
const NEAR = 8 * 1024;

/**
 * The same result as replayUpTo, from a scan that read write records' headers only
 * (LogScan.of(…, {headersOnly: true})): the log is then read once, in order, every
 * record before `upto` is checksummed as it passes, and each final byte is written
 * from the record just read. The target is written before the whole log has been
 * checked, so this is for targets that are thrown away when it throws (a restore to
 * a new file); damage before `upto` throws CorruptLogError naming the record.
 */
export function replayVerifying(scan: LogScan, upto: number, targets: Map<number, VolumeImage>, what: string): ReplayResult {
  if (scan.writes.length > PLAN_PIECES) {
    // Too many records to hold which pieces each one supplies: check them all in one
    // pass first, then copy the final extents as from a checked scan.
    checkEachRecord(scan, upto, what, () => {});
    return replayUpTo(scan, upto, targets, {what, verified: true});
  }
  const result: ReplayResult = {records: 0, bytes: 0, written: 0};
  countWrites(scan, upto, targets, result);
  // The final extents by the write that supplies them, so each is written as its record passes.
  const extents = new ExtentColumns(scan.writes.length);
  for (const [ldev, target] of targets) finalExtentsOf(scan, upto, ldev, [0, target.capacity], new ExtentColumns(scan.writes.length), extents, false);
  const byWrite = extents.order(extents.write);
  let k = 0;
  checkEachRecord(scan, upto, what, (index, record, source) => {
    for (; k < byWrite.length && extents.write[byWrite[k]] === index; k++) {
      const i = byWrite[k];
      const [target, start, length] = [targets.get(extents.ldev[i])!, extents.start[i], extents.end[i] - extents.start[i]];
      if (record.kind === 'zero') target.zero(start, length);
      else target.write(start, record.data.subarray(extents.source[i] - source, extents.source[i] - source + length));
      result.written += length;
    }
  });
  return result;
}

/**
 * Reads the log once, in order, checking every record before `upto` and that each
 * write is the one the scan planned; `use` gets each write record (its data valid
 * only during the call) with its index in the scan's write list.
 */
function checkEachRecord(scan: LogScan, upto: number, what: string, use: (index: number, record: WriteRecord | ZeroRecord, source: number) => void): void {
  let next = 0;
  const records = scan.journal.records(damage => {
    throw corruptionError(scan.journal, damage, what);
  }, {streaming: true});
  for (const {record, logLdev, address, dataOffset} of records) {
    if (record.logId >= upto) break;
    if (record.kind === 'mark') continue;
    const plan = next < scan.writes.length ? scan.writes.at(next) : undefined;
    const zero = record.kind === 'zero';
    const [length, source, from] = zero ? [record.length, 0, ZEROS] : [record.data.length, dataOffset, logLdev];
    if (!samePlace(plan, record.logId, record.ldev, record.address, length, from, source)) {
      throw new CorruptLogError(`log group ${scan.journal.group.group}: the record with log ID ${record.logId} at log volume ${logLdev} address ${address} is not the one its header described a moment ago, before ${what}`,
        'run the restore again; if it fails the same way, run `marklog verify`');
    }
    use(next++, record, source);
  }
  const planned = countBelow(scan, upto);
  if (next !== planned) {
    throw new CorruptLogError(`log group ${scan.journal.group.group}: ${planned - next} write record(s) before ${what} could not be read back`, 'run `marklog verify`');
  }
}

/** Write records below `upto`, of any volume. */
function countBelow(scan: LogScan, upto: number): number {
  let count = 0;
  scan.writes.eachTarget((_index, logId) => {
    if (logId >= upto) return false;
    count++;
  });
  return count;
}

/** Counts the write records below `upto` for the targets, and their bytes, into `result`. */
function countWrites(scan: LogScan, upto: number, targets: Map<number, VolumeImage>, result: ReplayResult): void {
  scan.writes.eachTarget((_index, logId, ldev, length) => {
    if (logId >= upto) return false;
    if (!targets.has(ldev)) return;
    result.records++;
    result.bytes += length;
  });
}

/**
 * At most about this many pieces of write records are planned at once: past it a
 * target's address space is cut into ranges each planned on its own pass over the
 * write list, so the extent map stays a few MiB whatever the log's length.
 */
export const PLAN_PIECES = 16384;

/** Address ranges of one target, in order, covering all of it, each with about PLAN_PIECES pieces of write records or fewer. */
function planRanges(scan: LogScan, upto: number, ldev: number, capacity: number): [number, number][] {
  if (scan.writes.length <= PLAN_PIECES) return [[0, Infinity]];
  // Pieces counted per bucket of the address space (at most 65,536 buckets).
  const bucket = Math.max(1024 * 1024, 2 ** Math.ceil(Math.log2(Math.max(1, capacity) / 65536)));
  const counts = new Float64Array(Math.ceil(capacity / bucket) + 1);
  for (const {chunk, rows} of scan.writes.chunks()) {
    for (let at = 0; at < rows * STRIDE; at += STRIDE) {
      if (chunk[at + Field.logId] >= upto) break;
      if (chunk[at + Field.ldev] !== ldev) continue;
      const [address, length] = [chunk[at + Field.address], chunk[at + Field.length]];
      const last = Math.min(counts.length - 1, Math.floor((address + length - 1) / bucket));
      for (let b = Math.floor(address / bucket); b <= last; b++) counts[b]++;
    }
  }
  const ranges: [number, number][] = [];
  let start = 0;
  let pieces = 0;
  for (let b = 0; b < counts.length; b++) {
    if (pieces > 0 && pieces + counts[b] > PLAN_PIECES) {
      ranges.push([start, b * bucket]);
      start = b * bucket;
      pieces = 0;
    }
    pieces += counts[b];
  }
  ranges.push([start, Infinity]);
  return ranges;
}

/** Every final extent of one target below log ID `upto`, in ascending target order (one batch, however many). */
export function finalExtents(scan: LogScan, upto: number, ldev: number): ExtentColumns {
  const out = new ExtentColumns(1024);
  finalExtentsOf(scan, upto, ldev, [0, Infinity], new ExtentColumns(1024), out);
  return out;
}

/**
 * Where each final byte of [from, to) of one target comes from (last writer wins),
 * into `out` (cleared first unless `clear` is false).
 */
function finalExtentsOf(scan: LogScan, upto: number, ldev: number, [from, to]: [number, number], pieces: ExtentColumns, out: ExtentColumns, clear = true): void {
  pieces.clear();
  if (clear) out.clear();
  for (const {chunk, first, rows} of scan.writes.chunks()) {
    for (let row = 0, at = 0; row < rows; row++, at += STRIDE) {
      if (chunk[at + Field.logId] >= upto) return resolveLastWriter(pieces, out);
      if (chunk[at + Field.ldev] !== ldev) continue;
      const address = chunk[at + Field.address];
      const start = Math.max(address, from);
      const end = Math.min(address + chunk[at + Field.length], to);
      const logLdev = chunk[at + Field.logLdev];
      if (start < end) pieces.add(start, end, logLdev, logLdev === ZEROS ? 0 : chunk[at + Field.source] + (start - address), first + row, ldev);
    }
  }
  resolveLastWriter(pieces, out);
}

/** The write records below `upto` for the targets, in log order, counted into `result`. */
function* writesFor(scan: LogScan, upto: number, targets: Map<number, VolumeImage>, result: ReplayResult): Generator<ScannedWrite> {
  for (const write of scan.writes) {
    if (write.logId >= upto) break;
    if (!targets.has(write.ldev)) continue;
    result.records++;
    result.bytes += write.length;
    yield write;
  }
}

function samePlace(plan: ScannedWrite | undefined, logId: number, ldev: number, address: number, length: number, logLdev: number, source: number): boolean {
  return plan !== undefined && plan.logId === logId && plan.ldev === ldev && plan.address === address && plan.length === length
    && plan.logLdev === logLdev && plan.source === source;
}
