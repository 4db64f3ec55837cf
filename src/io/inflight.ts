// The activity log (docs/FORMAT.md §5): each host write in flight holds a slot, set
// before the write touches the volume and cleared once it has gone everywhere its
// pairs send it. A run of writes (write-pipeline.ts) sets one slot per write, in
// slots no other run in flight holds, and clears them together. A slot is locked
// (an OFD byte-range lock) while its write is in flight, so the site lock need not
// be: a process that takes the site lock and finds another's slots locked waits for
// them (their writes come first at the remote); slots set and unlocked were left by
// a killed process (the kernel drops its locks), and the next command that writes
// sends each region's current contents on again, so the M-VOL never silently
// differs from its R-VOL or log.
import fs from 'node:fs';
import path from 'node:path';
import {fsx} from '../native/fsx.js';
import {ACTIVITY_SLOTS, decodeInflight, encodeInflight, INFLIGHT_SIZE, type Inflight} from '../format/inflight-format.js';
import {forwardBatch} from './write-through.js';
import type {Site} from '../site/site.js';

export const INFLIGHT_FILE = 'inflight';

const LOG_SIZE = ACTIVITY_SLOTS * INFLIGHT_SIZE;
/** The most bytes of a region a repair reads and sends at once. */
const REPAIR_PIECE = 4 * 1024 * 1024;

const open = new WeakMap<Site, number>();
/** The slots, mapped: setting and clearing them are stores, not system calls (they outlive the process all the same). */
const mapped = new WeakMap<Site, Buffer>();

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

/** What this process holds in the activity log of a site. */
interface Held {
  /** Slots of writes in flight: set, and locked (an OFD lock on the slot's bytes) until cleared. */
  live: Set<number>;
  /** Slots of writes that failed: still set, no longer locked, kept from reuse until a repair sends them on. */
  abandoned: Set<number>;
}

const held = new WeakMap<Site, Held>();

function heldBy(site: Site): Held {
  let mine = held.get(site);
  if (!mine) held.set(site, (mine = {live: new Set(), abandoned: new Set()}));
  return mine;
}

/** Slots this process may set now. */
export function freeSlotCount(site: Site): number {
  const {live, abandoned} = heldBy(site);
  return ACTIVITY_SLOTS - live.size - abandoned.size;
}

/**
 * Sets one slot per write, in slots this process does not hold (lowest first), and
 * returns them. Each slot is locked before it is set and stays locked until cleared,
 * so another process tells a live writer's slot (wait for it) from one a killed
 * process left (repair it). Callers hold the site lock and have repaired the log in
 * this hold, so every slot they do not hold is clear.
 */
export function beginWrites(site: Site, writes: readonly Inflight[]): number[] {
  const {live, abandoned} = heldBy(site);
  if (writes.length > freeSlotCount(site)) throw new Error(`${writes.length} writes in flight, more than the activity log's ${freeSlotCount(site)} free slots`);
  const mapping = slotsOf(site);
  const fd = fdOf(site);
  const slots: number[] = [];
  for (let slot = 0; slots.length < writes.length; slot++) if (!live.has(slot) && !abandoned.has(slot)) slots.push(slot);
  for (const [first, count] of runsOf(slots)) {
    // Nobody else holds a slot this process may set (the repair saw to it): a refusal is a bug, not a wait.
    if (!fsx.lockRange(fd, first * INFLIGHT_SIZE, count * INFLIGHT_SIZE, true)) throw new Error(`activity-log slots ${first}..${first + count - 1} are locked by another process`);
  }
  writes.forEach((write, index) => {
    const slot = slots[index]!;
    encodeInflight(write, mapping.subarray(slot * INFLIGHT_SIZE, (slot + 1) * INFLIGHT_SIZE));
    live.add(slot);
  });
  return slots;
}

/** Slot numbers as runs of consecutive ones, [first, count]: one lock call a run (the slots of a run are mostly one). */
function runsOf(slots: readonly number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const slot of [...slots].sort((a, b) => a - b)) {
    const last = runs.at(-1);
    if (last && last[0] + last[1] === slot) last[1]++;
    else runs.push([slot, 1]);
  }
  return runs;
}

function unlockSlots(site: Site, slots: readonly number[]): void {
  for (const [first, count] of runsOf(slots)) fsx.unlockRange(fdOf(site), first * INFLIGHT_SIZE, count * INFLIGHT_SIZE);
}

export function beginWrite(site: Site, write: Inflight): number[] {
  return beginWrites(site, [write]);
}

/** Nothing in flight: the same 32 bytes in every slot. */
const CLEARED = encodeInflight(null);

/**
 * The writes have gone everywhere they go: their slots are cleared, then unlocked
 * (a process that finds a slot unlocked finds it cleared). Without slots: every
 * slot this process holds. Needs no site lock: nobody else sets a slot another holds.
 */
export function endWrites(site: Site, slots?: readonly number[]): void {
  const mapping = slotsOf(site);
  const {live, abandoned} = heldBy(site);
  const clearing = slots ?? [...live];
  for (const slot of clearing) CLEARED.copy(mapping, slot * INFLIGHT_SIZE);
  unlockSlots(site, clearing);
  for (const slot of clearing) {
    live.delete(slot);
    abandoned.delete(slot);
  }
}

export const endWrite = endWrites;

/**
 * Writes that failed on their way (they are on the M-VOL, perhaps not everywhere
 * else): their slots stay set and are unlocked, as a killed process leaves them, and
 * the next repair, in this process or another, sends the regions on again.
 */
export function abandonWrites(site: Site, slots: readonly number[]): void {
  const {live, abandoned} = heldBy(site);
  unlockSlots(site, slots);
  for (const slot of slots) {
    live.delete(slot);
    abandoned.add(slot);
  }
}

/** True while another process has writes in flight on this site (one system call). */
export function writesInFlightElsewhere(site: Site): boolean {
  return fsx.rangeHeldElsewhere(fdOf(site), 0, LOG_SIZE);
}

/** Every slot cleared, as endWrites leaves them. */
const ALL_CLEARED = Buffer.concat(Array.from({length: ACTIVITY_SLOTS}, () => CLEARED));

interface SlotScan {
  /** Set slots nobody holds (a killed process's, or this one's failed writes), with the write each names (undefined when torn). */
  dead: {slot: number; write: Inflight | undefined}[];
  /** Some set slot is locked by another live process. */
  liveElsewhere: boolean;
}

/** The slots this process does not hold, in slot order. */
function scanSlots(site: Site): SlotScan {
  const scan: SlotScan = {dead: [], liveElsewhere: false};
  // Once mapped, the slots are read from the mapping (the file's own pages), and a log
  // with every slot cleared, as it is between two batches, is one comparison.
  const slots = mapped.get(site);
  if (slots?.equals(ALL_CLEARED)) return scan;
  const bytes = slots ?? Buffer.alloc(LOG_SIZE);
  const read = slots ? LOG_SIZE : fs.readSync(fdOf(site), bytes, 0, LOG_SIZE, 0);
  const {live} = heldBy(site);
  for (let at = 0, slot = 0; at < read; at += INFLIGHT_SIZE, slot++) {
    const bytesOfSlot = bytes.subarray(at, Math.min(read, at + INFLIGHT_SIZE));
    // A serve with runs in flight scans at every run: its own slots and cleared ones are passed over undecoded.
    if (live.has(slot) || bytesOfSlot.equals(CLEARED)) continue;
    const decoded = decodeInflight(bytesOfSlot);
    if (decoded === null) continue;
    if (fsx.rangeHeldElsewhere(fdOf(site), at, INFLIGHT_SIZE)) scan.liveElsewhere = true;
    else scan.dead.push({slot, write: 'reason' in decoded ? undefined : decoded});
  }
  return scan;
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
  let fd: number | undefined;
  try {
    for (let at = 0; at < bytes.length; at += INFLIGHT_SIZE) {
      const decoded = decodeInflight(bytes.subarray(at, Math.min(bytes.length, at + INFLIGHT_SIZE)));
      if (decoded === null || 'reason' in decoded) continue;
      // A slot a live process holds is a write on its way, not one left behind.
      fd ??= fs.openSync(path.join(siteDir, INFLIGHT_FILE), 'r');
      if (!fsx.rangeHeldElsewhere(fd, at, INFLIGHT_SIZE)) writes.push(decoded);
    }
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  return writes;
}

/**
 * Finishes the writes a killed process left in flight: whatever the volume now
 * holds in each region is passed to the pairs like a host write, in slot order.
 * Writes another live process has in flight (its slots locked) come first: the
 * lock is let go until they are answered (FileLock.standAside), so whatever the
 * caller does next reaches the remote after them; read the tables after this.
 * Callers hold the lock. Returns the regions it repaired. A log with nothing in
 * it is left as it is (a command refused after this changes nothing on disk).
 * `onWarning` hears what a repaired write left (a pair fallen to PSUE), as a host
 * write's caller would.
 */
export async function repairInflight(site: Site, onWarning?: (warning: string) => void): Promise<Inflight[]> {
  let scan = scanSlots(site);
  while (scan.liveElsewhere) {
    await site.lock.standAside(() => !writesInFlightElsewhere(site));
    scan = scanSlots(site);
  }
  const repaired: Inflight[] = [];
  for (const {write} of scan.dead) {
    if (!write) continue;
    const volume = site.view().volumes.find(v => v.ldev === write.ldev);
    if (volume && write.offset + write.length <= volume.capacity) {
      // In pieces: a copy's slot names a run of up to 64 MiB. The tables again for each: a piece may move a pair to PSUE.
      for (let at = write.offset; at < write.offset + write.length; at += REPAIR_PIECE) {
        const length = Math.min(REPAIR_PIECE, write.offset + write.length - at);
        const tables = site.view();
        // Sent on, not written again: the bytes are the volume's own, and an M-VOL that refused the
        // write (a file size limit, a full disk) would refuse them again and block every later write.
        const outcome = await forwardBatch(site, tables, site.volume(tables, volume.ldev), [{offset: at, data: site.image(volume).read(at, length)}]);
        for (const warning of outcome.warnings) onWarning?.(warning);
        for (const {pair, reason} of outcome.suspendedByError) onWarning?.(`pair ${pair} is now PSUE (${reason}) while sending on a write left in flight; it is kept on the M-VOL and tracked for resync`);
      }
    }
    repaired.push(write);
  }
  if (scan.dead.length > 0) endWrites(site, scan.dead.map(({slot}) => slot));
  heldBy(site).abandoned.clear();
  return repaired;
}
