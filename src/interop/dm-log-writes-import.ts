// A dm-log-writes log (docs/INTEROP.md) replayed into a volume through the normal
// host write path, so its writes are replicated and journalled like any host write:
// WRITE → a host write, DISCARD → zeros, FLUSH and FUA → a durability point, MARK →
// a marklog mark named after the entry. The whole log is checked before the first
// write (format, sector size, ranges, mark names); if the site refuses something
// on the way (the pair fell out of log mode, say), the import stops there, having
// applied only whole entries before it, and says how many.
import fs from 'node:fs';
import path from 'node:path';
import {InvalidArgumentError, MarklogError} from '../errors.js';
import {DM_ENTRY_SIZE, DmFlag, decodeEntry, decodeSuper, entrySpan, type DmEntryHeader} from '../format/dm-log-writes.js';
import {HostWriter} from '../io/host-writer.js';
import {checkAppName, issueMark} from '../mark/mark.js';
import type {Site} from '../site/site.js';

export const IMPORT_FORMATS = ['dm-log-writes'] as const;

export interface ImportOptions {
  ldev: number;
  file: string;
}

export interface ImportResult {
  ldev: number;
  file: string;
  sectorSize: number;
  entries: number;
  writes: number;
  discards: number;
  /** FLUSH and FUA entries: points where everything before was made durable. */
  flushes: number;
  /** Each MARK entry and the marklog mark it became. */
  marks: {name: string; markId: number; group: number}[];
  bytes: number;
  zeroedBytes: number;
}

type Planned = DmEntryHeader & {at: number; name?: string};

const ZEROS = Buffer.alloc(1024 * 1024);

export async function importDmLogWrites(site: Site, options: ImportOptions): Promise<ImportResult> {
  const file = path.resolve(options.file);
  const capacity = site.volume(site.tables(), options.ldev).capacity;
  const {sectorSize, entries} = planEntries(file, capacity);
  const group = entries.some(e => e.name !== undefined) ? groupOf(site, options.ldev) : undefined;
  const result: ImportResult = {ldev: options.ldev, file, sectorSize, entries: entries.length, writes: 0, discards: 0, flushes: 0, marks: [], bytes: 0, zeroedBytes: 0};
  const writer = new HostWriter(site);
  let lastData = -1;
  for (const [index, entry] of entries.entries()) if (entry.name === undefined && entry.nrSectors > 0) lastData = index;
  const fd = fs.openSync(file, 'r');
  try {
    for (const [index, entry] of entries.entries()) {
      // The write before a FLUSH, a FUA write and the last write go with sync: fdatasync of
      // the files a write touched makes every earlier write to them durable too.
      const durable = index === lastData || (entry.flags & DmFlag.fua) !== 0 || (entries[index + 1]?.flags & DmFlag.flush) !== 0;
      try {
        await applyEntry(site, writer, fd, entry, sectorSize, durable, group, result);
      } catch (error) {
        if (error instanceof MarklogError) {
          error.message = `${error.message} (entry ${index + 1} of ${entries.length} of ${file}; the ${index} before it were applied)`;
        }
        throw error;
      }
    }
  } finally {
    writer.release();
    fs.closeSync(fd);
  }
  return result;
}

async function applyEntry(site: Site, writer: HostWriter, fd: number, entry: Planned, sectorSize: number, durable: boolean, group: number | undefined, result: ImportResult): Promise<void> {
  const offset = entry.sector * sectorSize;
  const length = entry.nrSectors * sectorSize;
  if (entry.name !== undefined) {
    writer.release();
    const mark = await issueMark(site, {group, app: entry.name});
    result.marks.push({name: entry.name, markId: mark.markId, group: mark.group});
  } else if (entry.flags & DmFlag.discard) {
    for (let done = 0; done < length; done += ZEROS.length) {
      const piece = Math.min(ZEROS.length, length - done);
      await writer.write(result.ldev, offset + done, ZEROS.subarray(0, piece), {sync: durable && done + piece === length});
    }
    result.discards++;
    result.zeroedBytes += length;
  } else if (length > 0) {
    const data = Buffer.alloc(length);
    readExactly(fd, data, entry.at + sectorSize);
    await writer.write(result.ldev, offset, data, {sync: durable});
    result.writes++;
    result.bytes += length;
  }
  if (entry.flags & (DmFlag.flush | DmFlag.fua)) result.flushes++;
}

/** Reads every entry header and checks the whole log against the volume before anything is written. */
function planEntries(file: string, capacity: number): {sectorSize: number; entries: Planned[]} {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    throw new InvalidArgumentError(`cannot open ${file} (${(error as NodeJS.ErrnoException).code})`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, 65536));
    readExactly(fd, head, 0);
    const decoded = decodeSuper(head);
    if ('reason' in decoded) throw new InvalidArgumentError(`${file}: ${decoded.reason}`);
    const {sectorSize, nrEntries} = decoded;
    if (capacity % sectorSize !== 0) throw new InvalidArgumentError(`${file} has ${sectorSize}-byte sectors, which do not divide the volume's ${capacity} bytes`);
    const entries: Planned[] = [];
    const sector = Buffer.alloc(sectorSize);
    let at = sectorSize;
    for (let i = 1; i <= nrEntries; i++) {
      if (at + sectorSize > size) throw new InvalidArgumentError(`${file}: entry ${i} of ${nrEntries} is truncated (the file ends at ${size})`);
      readExactly(fd, sector, at);
      const entry = decodeEntry(sector);
      if ('reason' in entry) throw new InvalidArgumentError(`${file}: entry ${i}: ${entry.reason}`);
      const planned: Planned = {...entry, at};
      if (entry.flags & DmFlag.mark) {
        if (entry.dataLen > sectorSize - DM_ENTRY_SIZE) throw new InvalidArgumentError(`${file}: entry ${i}: a mark name of ${entry.dataLen} bytes does not fit its sector`);
        const name = sector.toString('utf8', DM_ENTRY_SIZE, DM_ENTRY_SIZE + entry.dataLen);
        try {
          planned.name = checkAppName(name);
        } catch {
          throw new InvalidArgumentError(`${file}: entry ${i}: mark name ${JSON.stringify(name)} is not 1 to 255 bytes of printable text`);
        }
      } else {
        if (entry.dataLen !== 0) throw new InvalidArgumentError(`${file}: entry ${i} carries ${entry.dataLen} bytes of inline data, which marklog does not replay`);
        const end = (entry.sector + entry.nrSectors) * sectorSize;
        if (end > capacity) throw new InvalidArgumentError(`${file}: entry ${i} ends at byte ${end}, past the end of the volume (${capacity} bytes)`);
      }
      const span = entrySpan(entry, sectorSize);
      if (at + span > size) throw new InvalidArgumentError(`${file}: entry ${i} of ${nrEntries} is truncated (its data runs past the end of the file)`);
      entries.push(planned);
      at += span;
    }
    return {sectorSize, entries};
  } finally {
    fs.closeSync(fd);
  }
}

/** The log group a mark for this volume goes to: the group its pair logs to. */
function groupOf(site: Site, ldev: number): number {
  const pair = site.tables().pairs.find(p => p.mvol === ldev && p.logGroup !== null);
  if (!pair) throw new InvalidArgumentError(`the log holds marks, but LDEV ${ldev} is in no log group; start one with \`marklog log start\` first`);
  return pair.logGroup!;
}

function readExactly(fd: number, into: Buffer, position: number): void {
  let done = 0;
  while (done < into.length) {
    const n = fs.readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) throw new InvalidArgumentError(`the file ends at ${position + done}, inside an entry`);
    done += n;
  }
}
