// What a remote site answers on a link about its volumes: reservations, replicated
// writes, reads, flushes and what it records. The method table (methods.ts) serves
// these to the local transport and to the agent alike.
import {CapacityMismatchError, PairInLogGroupError, TakenOverError, VolumeInUseError, WrongRoleError} from '../errors.js';
import {fsx} from '../native/fsx.js';
import {forwardBatch, writeThrough, type VolumeWrite} from '../io/write-through.js';
import {noteBaseChange, sameClaim, volumeUse} from '../site/remote-endpoint.js';
import {checkPeerRow} from '../site/way-back.js';
import type {VolumeImage} from '../volume/image.js';
import type {Site} from '../site/site.js';
import type {LinkRow, PairDirection, PairState, RvolClaim, Tables, VolumeRow} from '../site/tables.js';
import type {RemoteIdentity, ReservedVolume} from '../site/link.js';

export function hello(site: Site): RemoteIdentity {
  const {id, name, role} = site.tables().site;
  return {id, name, role};
}

/** Remembers the site that linked here, so this site can reach it back; a way back this site could not dial is refused before anything is written. */
export async function registerPeer(site: Site, peer: LinkRow): Promise<void> {
  await checkPeerRow(peer);
  site.update(tables => {
    tables.peers = tables.peers.filter(p => p.siteId !== peer.siteId);
    tables.peers.push(peer);
  });
}

export function reserveRvol(site: Site, ldev: number, claim: RvolClaim, minCapacity: number): ReservedVolume {
  return site.update(tables => {
    if (tables.site.role !== 'remote') {
      throw new WrongRoleError(`site ${tables.site.name} has role ${tables.site.role}; R-VOLs live at a remote site`);
    }
    const row = site.volume(tables, ldev);
    // A retry after a crash between the two sites' table updates finds its own claim.
    if (!sameClaim(row, claim)) {
      const use = volumeUse(row);
      if (use) {
        throw new VolumeInUseError(`LDEV ${ldev} at ${tables.site.name} is already in use (${use})`,
          row.logGroup !== null && row.reserve === 'none' && !row.rvolOf
            ? `its image is the base of log group ${row.logGroup}'s log: use another LDEV, or start log group ${row.logGroup} again on its other pairs with \`marklog log start\`, which lets it go`
            : undefined);
      }
      if (row.capacity < minCapacity) {
        throw new CapacityMismatchError(`R-VOL LDEV ${ldev} holds ${row.capacity} bytes but the M-VOL needs ${minCapacity}`);
      }
      row.reserve = 'R-VOL';
      row.pathDefined = false;
      row.rvolOf = claim;
    }
    return {ldev: row.ldev, id: row.id, capacity: row.capacity};
  });
}

/**
 * Gives an R-VOL back to hosts. While it is the base of a log group's log (logging,
 * or stopped with the log kept for restores) a host write would change that base
 * unseen, so it is refused unless forced; forced, the volume leaves the group: the
 * group's marks no longer restore it, and a group left with no member stops.
 */
export function releaseRvol(site: Site, ldev: number, claim: RvolClaim, options: {force?: boolean} = {}): {leftGroup: number | null} {
  return site.update(tables => {
    const row = tables.volumes.find(v => v.ldev === ldev);
    if (!row || !sameClaim(row, claim)) return {leftGroup: null};
    const group = row.logGroup === null ? undefined : tables.groups.find(g => g.group === row.logGroup && g.members.some(m => m.rvol === ldev));
    // Taken over, the log was spent bringing the R-VOLs up to date: no restore is left to protect.
    if (group && !options.force && !group.takenOver) {
      throw new PairInLogGroupError(`R-VOL LDEV ${ldev} of pair ${claim.pair} is the base of log group ${group.group} (${group.mode === 'LOG' ? 'logging' : 'stopped, its log kept for restores'}); deleting the pair would let that base change unseen`,
        `restore what you need first; \`marklog pair delete --force\` takes the R-VOL out of log group ${group.group}, whose marks then no longer restore it`);
    }
    if (group) {
      group.members = group.members.filter(m => m.rvol !== ldev);
      delete group.memberGenerations[String(ldev)];
      if (group.members.length === 0) group.mode = 'STOPPED';
      row.logGroup = null;
    }
    row.reserve = 'none';
    row.pathDefined = true;
    row.rvolOf = null;
    return {leftGroup: group?.group ?? null};
  });
}

/**
 * Refuses a log or pool volume: it holds this site's journal (or will), which only the
 * log's own writer changes, so a request naming its LDEV by mistake would destroy the log.
 */
export function refuseLogVolume(tables: Tables, row: VolumeRow): void {
  if (row.reserve === 'LOG' || row.reserve === 'POOL') {
    throw new VolumeInUseError(`LDEV ${row.ldev} at ${tables.site.name} is ${volumeUse(row)}: it takes no writes from a link`);
  }
}

/** Refuses an R-VOL this site took over (no split brain), unless failback turned the pair around. */
function refuseTakenOver(tables: Tables, row: VolumeRow): void {
  if (row.rvolOf?.takeover && row.rvolOf.direction !== 'reverse') {
    throw new TakenOverError(`R-VOL LDEV ${row.ldev} at ${tables.site.name} was taken over on ${row.rvolOf.takeover.since}`);
  }
}

/** The volume a replicated write lands on. */
function replicaTarget(site: Site, tables: Tables, ldev: number): VolumeRow {
  const row = site.volume(tables, ldev);
  refuseLogVolume(tables, row);
  refuseTakenOver(tables, row);
  noteBaseChange(site, row);
  return row;
}

export async function writeVolume(site: Site, ldev: number, offset: number, data: Uint8Array): Promise<void> {
  await site.lock.runAsync(async () => {
    replicaTarget(site, site.view(), ldev);
    // Read after the target's generation may have moved.
    const tables = site.view();
    await writeThrough(site, tables, site.volume(tables, ldev), offset, data);
  });
}

/**
 * The copy's write: copy_file_range from the M-VOL's image when this volume passes
 * writes on to nobody (no cascade pair), the ordinary write path otherwise.
 */
export async function writeVolumeFrom(site: Site, ldev: number, offset: number, length: number, source: VolumeImage): Promise<void> {
  await site.lock.runAsync(async () => {
    replicaTarget(site, site.view(), ldev);
    const tables = site.view();
    const row = site.volume(tables, ldev);
    const target = site.image(row);
    target.checkRange(offset, length);
    const plain = !tables.pairs.some(p => p.mvol === ldev);
    let done = plain ? fsx.copyRange(source.fd, offset, target.fd, offset, length) : 0;
    while (done < length) {
      const piece = Math.min(length - done, 8 * 1024 * 1024);
      await writeThrough(site, tables, row, offset + done, source.read(offset + done, piece));
      done += piece;
    }
  });
}

/**
 * Zeroes a range (a run of holes of the M-VOL, sent by pair create and resync) and
 * passes it on to this volume's own pairs (a cascade) as a replicated write is passed
 * on. A range that already reads as zeros changes nothing here, so nothing goes on.
 */
export async function zeroVolume(site: Site, ldev: number, offset: number, length: number): Promise<void> {
  await site.lock.runAsync(async () => {
    const tables = site.view();
    const row = site.volume(tables, ldev);
    refuseLogVolume(tables, row);
    refuseTakenOver(tables, row);
    const image = site.image(row);
    image.checkRange(offset, length);
    if (length === 0 || image.nextData(offset) >= offset + length) return;
    noteBaseChange(site, row);
    image.zero(offset, length);
    if (tables.pairs.some(p => p.mvol === ldev) || row.rvolOf?.takeover) await forwardZeros(site, ldev, offset, length);
  });
}

/** A zeroing goes on as writes of zeros, the path a host's TRIM takes (write-pipeline.ts). */
const ZEROS = Buffer.alloc(1024 * 1024);
/** Pieces sent together, as one run of the pipeline: a network link has them in flight at once. */
const ZERO_RUN = 64;

async function forwardZeros(site: Site, ldev: number, offset: number, length: number): Promise<void> {
  const end = offset + length;
  for (let at = offset; at < end;) {
    const writes: VolumeWrite[] = [];
    for (; writes.length < ZERO_RUN && at < end; at += ZEROS.length) writes.push({offset: at, data: ZEROS.subarray(0, Math.min(ZEROS.length, end - at))});
    // Read again for each run: a pair that fell to PSUE on the one before is saved by now.
    const tables = site.view();
    await forwardBatch(site, tables, site.volume(tables, ldev), writes);
  }
}

export function readVolume(site: Site, ldev: number, offset: number, length: number): Buffer {
  const tables = site.tables();
  return site.image(site.volume(tables, ldev)).read(offset, length);
}

/** What this site records about one of its volumes, for a peer's verify. */
export function describeVolume(site: Site, ldev: number): {ldev: number; capacity: number; reserve: string; rvolOf: RvolClaim | null} | null {
  const row = site.tables().volumes.find(v => v.ldev === ldev);
  return row ? {ldev: row.ldev, capacity: row.capacity, reserve: row.reserve, rvolOf: row.rvolOf} : null;
}

/** What this site records about one of its pairs, for the remote's view of its R-VOLs. */
export function describePair(site: Site, pair: number): {pair: number; state: PairState; direction: PairDirection; mvol: number} | null {
  const row = site.tables().pairs.find(p => p.pair === pair);
  return row ? {pair: row.pair, state: row.state, direction: row.direction ?? 'forward', mvol: row.mvol} : null;
}

/** Forces an R-VOL, and the log of its group if it has one, to stable storage (write --sync). */
export function flushVolume(site: Site, ldev: number): void {
  const tables = site.tables();
  const row = site.volume(tables, ldev);
  site.image(row).syncAll();
  const group = row.logGroup === null ? undefined : tables.groups.find(g => g.group === row.logGroup);
  for (const log of group?.logVolumes ?? []) site.image(site.volume(tables, log)).syncAll();
}
