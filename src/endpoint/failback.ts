// What a remote site answers on a link for failback (Fig. 22): the
// ranges hosts changed on a taken-over R-VOL, handed to the primary in two phases,
// and the switch of direction. Like volumes.ts, plain data in and out.
//
// The hand-over never forgets before the primary has the ranges on stable storage:
// a read moves what the tracking bitmap holds into a hand-over bitmap under a new
// token; only a confirmation of that very token lets it go. Host writes after the
// read mark the tracking bitmap again, so a confirmation can never clear one of
// them, and a primary that dies between read and confirmation simply reads again
// (the held ranges come back, with whatever is new).
import fs from 'node:fs';
import {PairStateError, VolumeInUseError} from '../errors.js';
import {repairInflight} from '../io/inflight.js';
import {PairBitmap} from '../pair/bitmap.js';
import {handoverBitmapName} from '../site/layout.js';
import {sameClaim} from '../site/remote-endpoint.js';
import type {HandedOver} from '../site/link.js';

// Declared with the link it travels on; named here too, where it is made.
export type {HandedOver} from '../site/link.js';
import type {Site} from '../site/site.js';
import type {RvolClaim, Tables, VolumeRow} from '../site/tables.js';


function takenOverRow(site: Site, tables: Tables, ldev: number, claim: RvolClaim): VolumeRow {
  const row = site.volume(tables, ldev);
  if (!sameClaim(row, claim)) throw new VolumeInUseError(`LDEV ${ldev} at ${tables.site.name} is not the R-VOL of pair ${claim.pair}`);
  if (!row.rvolOf!.takeover) throw new PairStateError(`R-VOL LDEV ${ldev} at ${tables.site.name} was not taken over; there is nothing to fail back`);
  return row;
}

/** Moves the tracked changes into the hand-over under a new token; the caller holds the lock and saves nothing itself. */
function handOver(site: Site, tables: Tables, row: VolumeRow): HandedOver {
  const takeover = row.rvolOf!.takeover!;
  const held = takeover.handover;
  const name = held?.bitmap ?? handoverBitmapName(row.ldev);
  // A hand-over file not marked open in the tables holds nothing anyone relies on
  // (one marked open and missing fails to open: better refused than forgotten).
  if (!held?.open) PairBitmap.create(site.path(name), row.capacity, takeover.chunkSize, false);
  const tracking = PairBitmap.open(site.path(takeover.bitmap));
  const handed = PairBitmap.open(site.path(name));
  try {
    for (const range of tracking.dirtyRanges()) handed.markRange(range.offset, range.length);
    handed.flush();
    // Held before the tracking bits go: a crash in between leaves a range in both, never in neither.
    takeover.handover = {bitmap: name, token: (held?.token ?? 0) + 1, open: true};
    site.save(tables);
    tracking.clearAll();
    tracking.flush();
    return {token: takeover.handover.token, ranges: handed.dirtyRanges()};
  } finally {
    tracking.close();
    handed.close();
  }
}

/** Failback, first phase: what hosts changed on a taken-over R-VOL and the primary has not confirmed. */
export function readDirtyRanges(site: Site, ldev: number, claim: RvolClaim): Promise<HandedOver> {
  return site.lock.runAsync(async () => {
    // A host write killed here after it reached the R-VOL, before its bit was set, is tracked first.
    await repairInflight(site);
    const tables = site.tables();
    return handOver(site, tables, takenOverRow(site, tables, ldev, claim));
  });
}

/** Failback, second phase: the primary holds the ranges of `token` durably; an older token changes nothing. */
export function forgetDirtyRanges(site: Site, ldev: number, claim: RvolClaim, token: number): void {
  site.lock.run(() => {
    const tables = site.tables();
    const takeover = takenOverRow(site, tables, ldev, claim).rvolOf!.takeover!;
    const held = takeover.handover;
    if (!held?.open || held.token !== token) return;
    takeover.handover = {...held, open: false};
    site.save(tables);
    fs.rmSync(site.path(held.bitmap), {force: true});
  });
}

/**
 * Failback's last step and its undoing. 'reverse': this R-VOL becomes the source
 * and its writes go back to the M-VOL; hands over what changed since the last
 * read, in the same two phases. 'forward': back to an ordinary R-VOL that takes
 * no host writes.
 */
export function setDirection(site: Site, ldev: number, claim: RvolClaim, direction: 'forward' | 'reverse'): Promise<HandedOver> {
  return site.lock.runAsync(async () => {
    await repairInflight(site);
    const tables = site.tables();
    const row = takenOverRow(site, tables, ldev, claim);
    if (direction === 'reverse') {
      row.rvolOf!.direction = 'reverse';
      return handOver(site, tables, row);
    }
    if (row.rvolOf!.direction !== 'reverse') throw new PairStateError(`R-VOL LDEV ${ldev} is not the source of its pair; nothing to swap back`);
    const takeover = row.rvolOf!.takeover!;
    const group = takeover.group;
    row.rvolOf = {pair: claim.pair, primarySite: claim.primarySite, mvol: claim.mvol, takeover: null, direction: 'forward'};
    row.pathDefined = false;
    const groupRow = tables.groups.find(g => g.group === group);
    if (groupRow && groupRow.members.every(m => !tables.volumes.find(v => v.ldev === m.rvol)?.rvolOf?.takeover)) groupRow.takenOver = null;
    site.save(tables);
    for (const name of [takeover.bitmap, takeover.handover?.bitmap ?? handoverBitmapName(ldev)]) fs.rmSync(site.path(name), {force: true});
    return {token: 0, ranges: []};
  });
}
