// The activity log (docs/FORMAT.md §5): each host write in flight holds a slot, set
// before the write touches the volume and cleared once it has gone everywhere its
// pairs send it. A run of writes (write-pipeline.ts) sets one slot per write, in
// slots no other run in flight holds, and clears them together. A process killed in
// between leaves its slots set; the next command that writes sends each region's
// current contents on again, so the M-VOL never silently differs from its R-VOL or log.
import fs from 'node:fs';
import path from 'node:path';
import {fsx} from '../native/fsx.js';
import {ACTIVITY_SLOTS, decodeInflight, encodeInflight, INFLIGHT_SIZE, type Inflight} from '../format/inflight-format.js';
import {writeThrough} from './write-through.js';
import type {Site} from '../site/site.js';

export const INFLIGHT_FILE = 'inflight';

const LOG_SIZE = ACTIVITY_SLOTS * INFLIGHT_SIZE;

const open = new WeakMap<Site, number>();
/** The slots, mapped: setting and clearing them are stores, not system calls (they outlive the process all the same). */
const mapped = new WeakMap<Site, Buffer>();
/** The slots this process has set, and under which hold of the site lock. */
const lastWritten = new WeakMap<Site, {hold: number; set: Set<number>}>();

function fdOf(site: Site): number {
  let fd = open.get(site);
  if (fd === undefined) {
    fd = fs.openSync(path.join(site.dir, INFLIGHT_FILE), fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    open.set(site, fd);
  }
  return fd;
}

function slotsOf(site: Site): Buffer {
  let slots = mapped.get(site);
  if (!slots) {
    const fd = fdOf(site);
    const size = fs.fstatSync(fd).size;
    if (size < LOG_SIZE) {
      // A new file, or one record of an earlier release: the missing slots are written
      // cleared now (whatever a slot already holds stays), so no store into the mapping
      // has to allocate a block.
      const from = Math.ceil(size / INFLIGHT_SIZE) * INFLIGHT_SIZE;
      const cleared = Buffer.alloc(LOG_SIZE - from);
      for (let at = 0; at < cleared.length; at += INFLIGHT_SIZE) encodeInflight(null, cleared.subarray(at, at + INFLIGHT_SIZE));
      fs.writeSync(fd, cleared, 0, cleared.length, from);
      fs.fdatasyncSync(fd);
    }
    slots = fsx.mapShared(fd, 0, LOG_SIZE);
    mapped.set(site, slots);
  }
  return slots;
}

/** Every slot, lowest first: a single write and a pipeline with one run in flight use slot 0 up. */
const EVERY_SLOT = Array.from({length: ACTIVITY_SLOTS}, (_, slot) => slot);

/** The slots known set in this hold of the lock (none when the log was found clear or repaired in it). */
function knownSet(site: Site): Set<number> | undefined {
  const known = lastWritten.get(site);
  return known && known.hold === site.lock.hold ? known.set : undefined;
}

/**
 * Sets one slot per write: slot `slots[i]` for writes[i], slots 0 up when not given.
 * The pipeline keeps several runs in flight, each in slots the others do not use.
 */
export function beginWrites(site: Site, writes: readonly Inflight[], slots: readonly number[] = EVERY_SLOT): void {
  if (writes.length > ACTIVITY_SLOTS) throw new Error(`${writes.length} writes in flight, more than the activity log's ${ACTIVITY_SLOTS} slots`);
  const mapping = slotsOf(site);
  let set = knownSet(site);
  if (!set) {
    set = new Set();
    lastWritten.set(site, {hold: site.lock.hold, set});
  }
  writes.forEach((write, index) => {
    const slot = slots[index]!;
    encodeInflight(write, mapping.subarray(slot * INFLIGHT_SIZE, (slot + 1) * INFLIGHT_SIZE));
    set.add(slot);
  });
}

export function beginWrite(site: Site, write: Inflight): void {
  beginWrites(site, [write]);
}

/** Nothing in flight: the same 32 bytes in every slot. */
const CLEARED = encodeInflight(null);

/** Clears the given slots, or every slot this process set (all of them when it cannot know which). */
export function endWrites(site: Site, slots?: readonly number[]): void {
  const mapping = slotsOf(site);
  const set = knownSet(site);
  const clearing = slots ?? (set ? [...set] : EVERY_SLOT);
  for (const slot of clearing) {
    CLEARED.copy(mapping, slot * INFLIGHT_SIZE);
    set?.delete(slot);
  }
  if (!set) lastWritten.set(site, {hold: site.lock.hold, set: new Set()});
}

export const endWrite = endWrites;

/** Every slot cleared, as endWrites leaves them. */
const ALL_CLEARED = Buffer.concat(Array.from({length: ACTIVITY_SLOTS}, () => CLEARED));

/** The writes the activity log holds, in slot order, and whether any slot holds anything (torn slots are not writes). */
function setSlots(site: Site): {writes: Inflight[]; dirty: boolean} {
  // Once mapped, the slots are read from the mapping (the file's own pages), and a log
  // with every slot cleared, as it is between two batches, is one comparison.
  const slots = mapped.get(site);
  if (slots?.equals(ALL_CLEARED)) return {writes: [], dirty: false};
  const bytes = slots ?? Buffer.alloc(LOG_SIZE);
  const read = slots ? LOG_SIZE : fs.readSync(fdOf(site), bytes, 0, LOG_SIZE, 0);
  const writes: Inflight[] = [];
  let dirty = false;
  for (let at = 0; at < read; at += INFLIGHT_SIZE) {
    const decoded = decodeInflight(bytes.subarray(at, Math.min(read, at + INFLIGHT_SIZE)));
    if (decoded === null) continue;
    dirty = true;
    if (!('reason' in decoded)) writes.push(decoded);
  }
  return {writes, dirty};
}

/**
 * The writes the activity log names now, for a reader that changes nothing (verify):
 * the file is read, never created or grown.
 */
export function writesInFlight(siteDir: string): Inflight[] {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path.join(siteDir, INFLIGHT_FILE));
  } catch {
    return [];
  }
  const writes: Inflight[] = [];
  for (let at = 0; at < bytes.length; at += INFLIGHT_SIZE) {
    const decoded = decodeInflight(bytes.subarray(at, Math.min(bytes.length, at + INFLIGHT_SIZE)));
    if (decoded !== null && !('reason' in decoded)) writes.push(decoded);
  }
  return writes;
}

/**
 * Finishes the writes a killed process left in flight: whatever the volume now
 * holds in each region is passed to the pairs like a host write, in slot order.
 * Callers hold the lock and read the tables after it (a pair may have fallen to
 * PSUE). Returns the regions it repaired. A log with nothing in it is left as it
 * is (a command refused after this changes nothing on disk).
 */
export async function repairInflight(site: Site): Promise<Inflight[]> {
  // Cleared by this process within this hold of the lock: nobody else can have set it since.
  const known = knownSet(site);
  if (known && known.size === 0 && site.lock.hold !== 0) return [];
  const {writes, dirty} = setSlots(site);
  if (!dirty) {
    lastWritten.set(site, {hold: site.lock.hold, set: new Set()});
    return [];
  }
  for (const write of writes) {
    const tables = site.view();
    const volume = tables.volumes.find(v => v.ldev === write.ldev);
    if (volume && write.offset + write.length <= volume.capacity) {
      await writeThrough(site, tables, volume, write.offset, site.image(volume).read(write.offset, write.length));
    }
  }
  lastWritten.delete(site);
  endWrites(site);
  return writes;
}
