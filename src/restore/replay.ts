// Building a volume as base + log up to a mark (patent Fig. 23): clone the base
// image into the target, then write every record before the mark, in log order.
import {fsx} from '../native/fsx.js';
import {RECORD_HEADER_SIZE, WRITE_DATA_HEADER} from '../format/log-format.js';
import {corruptionError} from './locate.js';
import type {LogScan, ScannedWrite} from './scan.js';
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
export function replayUpTo(scan: LogScan, upto: number, targets: Map<number, VolumeImage>, options: {coalesce?: boolean} = {}): ReplayResult {
  const result: ReplayResult = {records: 0, bytes: 0, written: 0};
  const logImages = new Map(scan.journal.volumes.map(v => [v.header.ldev, v.image]));
  if (options.coalesce === false) {
    for (const write of writesFor(scan, upto, targets, result)) {
      targets.get(write.ldev)!.write(write.address, logImages.get(write.logLdev)!.read(write.source, write.length));
      result.written += write.length;
    }
    return result;
  }
  for (const [ldev, map] of extentMaps(scan, upto, targets, result)) {
    const target = targets.get(ldev)!;
    for (const extent of map.extents()) {
      const length = extent.end - extent.start;
      const log = logImages.get(extent.logLdev)!;
      // In-kernel where the file systems allow; the checksums were verified by the scan.
      target.checkRange(extent.start, length);
      const copied = fsx.copyRange(log.fd, extent.source, target.fd, extent.start, length);
      if (copied < length) target.write(extent.start + copied, log.read(extent.source + copied, length - copied));
      result.written += length;
    }
  }
  return result;
}

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
  for (const {record, logLdev, address} of records) {
    if (record.logId >= upto) break;
    if (record.kind !== 'write') continue;
    const plan = planned[next++];
    const source = address + RECORD_DATA_OFFSET;
    if (!samePlace(plan, record.logId, record.ldev, record.address, record.data.length, logLdev, source)) {
      throw new CorruptLogError(`log group ${scan.journal.group.group}: the record with log ID ${record.logId} at log volume ${logLdev} address ${address} is not the one its header described a moment ago, before ${what}`,
        'run the restore again; if it fails the same way, run `marklog verify`');
    }
    for (const piece of byRecord.get(record.logId) ?? []) {
      targets.get(piece.ldev)!.write(piece.start, record.data.subarray(piece.source - source, piece.source - source + piece.end - piece.start));
      result.written += piece.end - piece.start;
    }
  }
  if (next !== planned.length) {
    throw new CorruptLogError(`log group ${scan.journal.group.group}: ${planned.length - next} write record(s) before ${what} could not be read back`, 'run `marklog verify`');
  }
  return result;
}

const RECORD_DATA_OFFSET = RECORD_HEADER_SIZE + WRITE_DATA_HEADER;

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
