// Building a volume as base + log up to a mark (patent Fig. 23): clone the base
// image into the target, then write every record before the mark, in log order.
import {fsx} from '../native/fsx.js';
import type {LogScan} from './scan.js';
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
  const maps = new Map<number, ExtentMap>([...targets.keys()].map(ldev => [ldev, new ExtentMap()]));
  for (const write of scan.writes) {
    if (write.logId >= upto) break;
    if (!targets.has(write.ldev)) continue;
    result.records++;
    result.bytes += write.length;
    if (options.coalesce === false) {
      targets.get(write.ldev)!.write(write.address, logImages.get(write.logLdev)!.read(write.source, write.length));
      result.written += write.length;
    } else {
      maps.get(write.ldev)!.put(write.address, write.address + write.length, write.logLdev, write.source);
    }
  }
  if (options.coalesce === false) return result;
  for (const [ldev, map] of maps) {
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
