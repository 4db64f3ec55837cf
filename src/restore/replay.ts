// Building a volume as base + log up to a mark (patent Fig. 23): clone the base
// image into the target, then write every record before the mark, in log order.
import {fsx} from '../native/fsx.js';
import type {Journal} from '../log/journal.js';
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

/** Writes each record below log ID `upto` whose target is in `targets` (R-VOL LDEV → image). */
export function replayUpTo(journal: Journal, upto: number, targets: Map<number, VolumeImage>): {records: number; bytes: number} {
  let records = 0;
  let bytes = 0;
  for (const {record} of journal.records()) {
    if (record.logId >= upto) break;
    if (record.kind !== 'write') continue;
    const target = targets.get(record.ldev);
    if (!target) continue;
    target.write(record.address, record.data);
    records++;
    bytes += record.data.length;
  }
  return {records, bytes};
}
