// A host write in flight is recorded before it touches the volume and cleared
// once it has gone everywhere its pairs send it. A process killed in between
// leaves the record; the next command that writes sends the region's current
// contents on again, so the M-VOL never silently differs from its R-VOL or log.
import fs from 'node:fs';
import path from 'node:path';
import {fsx} from '../native/fsx.js';
import {decodeInflight, encodeInflight, INFLIGHT_SIZE, type Inflight} from '../format/inflight-format.js';
import {writeThrough} from './write-through.js';
import type {Site} from '../site/site.js';

export const INFLIGHT_FILE = 'inflight';

const open = new WeakMap<Site, number>();
/** The record, mapped: setting and clearing it are stores, not system calls (they outlive the process all the same). */
const mapped = new WeakMap<Site, Buffer>();
/** The record's state as this process last wrote it, and under which hold of the site lock. */
const lastWritten = new WeakMap<Site, {hold: number; inFlight: boolean}>();

function fdOf(site: Site): number {
  let fd = open.get(site);
  if (fd === undefined) {
    fd = fs.openSync(path.join(site.dir, INFLIGHT_FILE), fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    open.set(site, fd);
  }
  return fd;
}

function recordOf(site: Site): Buffer {
  let record = mapped.get(site);
  if (!record) {
    const fd = fdOf(site);
    if (fs.fstatSync(fd).size < INFLIGHT_SIZE) {
      // A new file: its block is allocated now, so no store into the mapping has to allocate it.
      fs.writeSync(fd, encodeInflight(null), 0, INFLIGHT_SIZE, 0);
      fs.fdatasyncSync(fd);
    }
    record = fsx.mapShared(fd, 0, INFLIGHT_SIZE);
    mapped.set(site, record);
  }
  return record;
}

export function beginWrite(site: Site, write: Inflight): void {
  encodeInflight(write).copy(recordOf(site));
  lastWritten.set(site, {hold: site.lock.hold, inFlight: true});
}

/** Nothing in flight: the same 32 bytes every time. */
const CLEARED = encodeInflight(null);

export function endWrite(site: Site): void {
  CLEARED.copy(recordOf(site));
  lastWritten.set(site, {hold: site.lock.hold, inFlight: false});
}

/**
 * Finishes a write a killed process left in flight: whatever the volume now holds
 * in that region is passed to the pairs like a host write. Callers hold the lock
 * and read the tables after it (a pair may have fallen to PSUE).
 * Returns the region it repaired, if any.
 */
export function repairInflight(site: Site): Inflight | null {
  // Cleared by this process within this hold of the lock: nobody else can have set it since.
  const known = lastWritten.get(site);
  if (known && !known.inFlight && known.hold !== 0 && known.hold === site.lock.hold) return null;
  const bytes = Buffer.alloc(INFLIGHT_SIZE);
  const read = fs.readSync(fdOf(site), bytes, 0, INFLIGHT_SIZE, 0);
  const decoded = decodeInflight(bytes.subarray(0, read));
  if (decoded === null) return null;
  if ('reason' in decoded) {
    // A torn record means the write had not started touching the volume yet.
    endWrite(site);
    return null;
  }
  const tables = site.view();
  const volume = tables.volumes.find(v => v.ldev === decoded.ldev);
  if (volume && decoded.offset + decoded.length <= volume.capacity) {
    writeThrough(site, tables, volume, decoded.offset, site.image(volume).read(decoded.offset, decoded.length));
  }
  endWrite(site);
  return decoded;
}
