// Building a volume as base + log up to a mark (patent Fig. 23): clone the base
// image into the target, then write every record before the mark, in log order.
import {fsx} from '../native/fsx.js';
import type {Journal} from '../log/journal.js';
import {ExtentMap} from './extent-map.js';
import {RECORD_HEADER_SIZE, WRITE_DATA_HEADER} from '../format/log-format.js';
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
export function replayUpTo(journal: Journal, upto: number, targets: Map<number, VolumeImage>, options: {coalesce?: boolean} = {}): ReplayResult {
  const result: ReplayResult = {records: 0, bytes: 0, written: 0};
  const maps = new Map<number, ExtentMap>([...targets.keys()].map(ldev => [ldev, new ExtentMap()]));
  for (const {record, logLdev, address} of journal.records()) {
    if (record.logId >= upto) break;
    if (record.kind !== 'write' || !targets.has(record.ldev)) continue;
    result.records++;
    result.bytes += record.data.length;
    if (options.coalesce === false) {
      targets.get(record.ldev)!.write(record.address, record.data);
      result.written += record.data.length;
    } else {
      maps.get(record.ldev)!.put(record.address, record.address + record.data.length, logLdev, address + RECORD_HEADER_SIZE + WRITE_DATA_HEADER);
    }
  }
  if (options.coalesce === false) return result;
  const logImages = new Map(journal.volumes.map(v => [v.header.ldev, v.image]));
  for (const [ldev, map] of maps) {
    const target = targets.get(ldev)!;
    for (const extent of map.extents()) {
      target.write(extent.start, logImages.get(extent.logLdev)!.read(extent.source, extent.end - extent.start));
      result.written += extent.end - extent.start;
    }
  }
  return result;
}
