// Building a volume as base + log up to a mark (patent Fig. 23): clone the base
// image into the target, then write every record before the mark, in log order.
import {fsx} from '../native/fsx.js';
import {badBlock} from '../format/log-record-v2.js';
import {ReadWindow} from '../log/read-window.js';
import {corruptionError} from './locate.js';
import {ZEROS, type LogScan, type ScannedWrite} from './scan.js';
import {CorruptLogError} from '../errors.js';
import {ExtentMap} from './extent-map.js';
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
 * for comparison in the benchmarks).
 */
export function replayUpTo(scan: LogScan, upto: number, targets: Map<number, VolumeImage>, options: {coalesce?: boolean; what?: string} = {}): ReplayResult {
  const result: ReplayResult = {records: 0, bytes: 0, written: 0};
  const logImages = new Map(scan.journal.volumes.map(v => [v.header.ldev, v.image]));
  const unchecked = new Map(scan.writes.filter(w => !w.dataChecked).map(w => [w.logId, w]));
  const what = options.what ?? `log ID ${upto}`;
  if (options.coalesce === false) {
    for (const write of writesFor(scan, upto, targets, result)) {
      const target = targets.get(write.ldev)!;
      if (write.logLdev === ZEROS) target.zero(write.address, write.length);
      else target.write(write.address, checkedBytes(scan, write, write.source, write.length, logImages, what));
      result.written += write.length;
    }
    return result;
  }
  const reader = new BlockReader();
  for (const [ldev, map] of extentMaps(scan, upto, targets, result)) {
    const target = targets.get(ldev)!;
    // Extents that are read and checked go in log order, so the log is read front to back.
    const extents = [...map.extents()];
    if (unchecked.size > 0) extents.sort((a, b) => a.logLdev - b.logLdev || a.source - b.source);
    for (const extent of extents) {
      const log = logImages.get(extent.logLdev);
      const write = unchecked.get(extent.logId);
      // Whole blocks are read around an extent: its record's data end bounds them.
      if (log && write) reader.limits.set(log, Math.max(reader.limits.get(log) ?? 0, write.source + write.length));
    }
    for (const extent of extents) {
      const length = extent.end - extent.start;
      target.checkRange(extent.start, length);
      result.written += length;
      if (extent.logLdev === ZEROS) {
        target.zero(extent.start, length);
        continue;
      }
      const write = unchecked.get(extent.logId);
      // A format 2 write planned from its header: only the blocks this extent uses are read and checked.
      if (write) {
        target.write(extent.start, checkedBytes(scan, write, extent.source, length, logImages, what, reader));
        continue;
      }
      // In-kernel where the file systems allow; the checksums were verified by the scan.
      const log = logImages.get(extent.logLdev)!;
      const copied = fsx.copyRange(log.fd, extent.source, target.fd, extent.start, length);
      if (copied < length) target.write(extent.start + copied, log.read(extent.source + copied, length - copied));
    }
  }
  return result;
}

/**
 * `length` bytes of a write from `source` in the log: read as they are when the
 * scan checked them, or read with the whole data blocks around them and checked
 * against the record's block CRCs (format 2). Damage throws CorruptLogError.
 */
function checkedBytes(scan: LogScan, write: ScannedWrite, source: number, length: number, logImages: Map<number, VolumeImage>, what: string, reader = new BlockReader()): Buffer {
  const log = logImages.get(write.logLdev)!;
  if (write.dataChecked || !write.layout) return log.read(source, length);
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
  private readonly windows = new Map<VolumeImage, {window: ReadWindow; end: number}>();
  private scratch = Buffer.alloc(0);
  /** Per log volume, where the last byte any extent needs ends: no read goes past it. */
  readonly limits = new Map<VolumeImage, number>();

  read(image: VolumeImage, offset: number, length: number): Buffer {
    let state = this.windows.get(image);
    if (!state) this.windows.set(image, (state = {window: new ReadWindow(image), end: -Infinity}));
    const close = offset >= state.end && offset - state.end <= NEAR;
    state.end = offset + length;
    if (close) return state.window.read(offset, length, this.limits.get(image));
    if (this.scratch.length < length) this.scratch = Buffer.allocUnsafe(Math.max(length, 1024 * 1024));
    image.readInto(offset, this.scratch, length);
    return this.scratch.subarray(0, length);
  }
}

/** How far apart two extents may lie in the log and still be read through one window. */
const NEAR = 64 * 1024;

/**
 * The same result as replayUpTo, from a scan that read write records' headers only
 * (LogScan.of(…, {headersOnly: true})): the log is then read once, in order, every
 * record before `upto` is checksummed as it passes, and each final byte is written
 * from the record just read. The target is written before the whole log has been
 * checked, so this is for targets that are thrown away when it throws (a restore to
 * a new file); damage before `upto` throws CorruptLogError naming the record.
 */
export function replayVerifying(scan: LogScan, upto: number, targets: Map<number, VolumeImage>, what: string): ReplayResult {
  const result: ReplayResult = {records: 0, bytes: 0, written: 0};
  const planned = scan.writes.filter(w => w.logId < upto);
  // Which final extents each record supplies, so they are written as the record passes.
  const byRecord = new Map<number, {ldev: number; start: number; end: number; source: number}[]>();
  for (const [ldev, map] of extentMaps(scan, upto, targets, result)) {
    for (const e of map.extents()) {
      let list = byRecord.get(e.logId);
      if (!list) byRecord.set(e.logId, (list = []));
      list.push({ldev, start: e.start, end: e.end, source: e.source});
    }
  }
  let next = 0;
  const records = scan.journal.records(damage => {
    throw corruptionError(scan.journal, damage, what);
  }, {streaming: true});
  for (const {record, logLdev, address, dataOffset} of records) {
    if (record.logId >= upto) break;
    if (record.kind === 'mark') continue;
    const plan = planned[next++];
    const zero = record.kind === 'zero';
    const [length, source, from] = zero ? [record.length, 0, ZEROS] : [record.data.length, dataOffset, logLdev];
    if (!samePlace(plan, record.logId, record.ldev, record.address, length, from, source)) {
      throw new CorruptLogError(`log group ${scan.journal.group.group}: the record with log ID ${record.logId} at log volume ${logLdev} address ${address} is not the one its header described a moment ago, before ${what}`,
        'run the restore again; if it fails the same way, run `marklog verify`');
    }
    for (const piece of byRecord.get(record.logId) ?? []) {
      if (record.kind === 'zero') targets.get(piece.ldev)!.zero(piece.start, piece.end - piece.start);
      else targets.get(piece.ldev)!.write(piece.start, record.data.subarray(piece.source - source, piece.source - source + piece.end - piece.start));
      result.written += piece.end - piece.start;
    }
  }
  if (next !== planned.length) {
    throw new CorruptLogError(`log group ${scan.journal.group.group}: ${planned.length - next} write record(s) before ${what} could not be read back`, 'run `marklog verify`');
  }
  return result;
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

/** Where each final byte of each target comes from (last writer wins). */
function extentMaps(scan: LogScan, upto: number, targets: Map<number, VolumeImage>, result: ReplayResult): Map<number, ExtentMap> {
  const maps = new Map<number, ExtentMap>([...targets.keys()].map(ldev => [ldev, new ExtentMap()]));
  for (const write of writesFor(scan, upto, targets, result)) {
    maps.get(write.ldev)!.put(write.address, write.address + write.length, write.logLdev, write.source, write.logId);
  }
  return maps;
}

function samePlace(plan: ScannedWrite | undefined, logId: number, ldev: number, address: number, length: number, logLdev: number, source: number): boolean {
  return plan !== undefined && plan.logId === logId && plan.ldev === ldev && plan.address === address && plan.length === length
    && plan.logLdev === logLdev && plan.source === source;
}
