// An independent reader of dm-log-writes logs, written from the kernel's document
// (Documentation/admin-guide/device-mapper/log-writes.rst) and nothing of marklog's:
// the tests replay what marklog exports with it, and read what QEMU's blklogwrites
// wrote with it. Super block in sector 0 (magic, version, entry count, sector size);
// then each entry: one sector holding {sector, nr_sectors, flags, data_len} and, for
// a mark, its name; a write's data follows in nr_sectors sectors; a discard has none.
import fs from 'node:fs';

const MAGIC = 0x6a736677736872n;
export const FLAGS = {flush: 1, fua: 2, discard: 4, mark: 8, metadata: 16};

export type DmEntry =
  | {kind: 'write'; offset: number; data: Buffer; flags: number}
  | {kind: 'discard'; offset: number; length: number; flags: number}
  | {kind: 'mark'; name: string; flags: number}
  | {kind: 'flush'; flags: number};

export interface DmLog {
  sectorSize: number;
  entries: DmEntry[];
}

export function readDmLog(file: string): DmLog {
  const log = fs.readFileSync(file);
  if (log.readBigUInt64LE(0) !== MAGIC) throw new Error(`${file}: not a dm-log-writes log`);
  if (log.readBigUInt64LE(8) !== 1n) throw new Error(`${file}: version ${log.readBigUInt64LE(8)}`);
  const count = Number(log.readBigUInt64LE(16));
  const sectorSize = log.readUInt32LE(24);
  const entries: DmEntry[] = [];
  let at = sectorSize;
  for (let i = 0; i < count; i++) {
    if (at + 32 > log.length) throw new Error(`${file}: entry ${i} at ${at} is past the end (${log.length})`);
    const sector = Number(log.readBigUInt64LE(at));
    const sectors = Number(log.readBigUInt64LE(at + 8));
    const flags = Number(log.readBigUInt64LE(at + 16));
    const dataLength = Number(log.readBigUInt64LE(at + 24));
    if (flags & FLAGS.mark) {
      entries.push({kind: 'mark', name: log.toString('utf8', at + 32, at + 32 + dataLength), flags});
      at += sectorSize;
    } else if (flags & FLAGS.discard) {
      entries.push({kind: 'discard', offset: sector * sectorSize, length: sectors * sectorSize, flags});
      at += sectorSize;
    } else if (sectors === 0) {
      entries.push({kind: 'flush', flags});
      at += sectorSize;
    } else {
      const start = at + sectorSize;
      entries.push({kind: 'write', offset: sector * sectorSize, data: log.subarray(start, start + sectors * sectorSize), flags});
      at = start + sectors * sectorSize;
    }
  }
  return {sectorSize, entries};
}

/** Replays entries onto a copy of `base`, calling `atMark` with the image at each mark. */
export function replayDmLog(log: DmLog, base: Buffer, atMark: (name: string, image: Buffer) => void = () => {}): Buffer {
  const image = Buffer.from(base);
  for (const entry of log.entries) {
    const end = entry.kind === 'write' ? entry.offset + entry.data.length : entry.kind === 'discard' ? entry.offset + entry.length : 0;
    if (end > image.length) throw new Error(`a ${entry.kind} entry ends at ${end}, past the ${image.length}-byte image`);
    if (entry.kind === 'write') entry.data.copy(image, entry.offset);
    else if (entry.kind === 'discard') image.fill(0, entry.offset, entry.offset + entry.length);
    else if (entry.kind === 'mark') atMark(entry.name, Buffer.from(image));
  }
  return image;
}
