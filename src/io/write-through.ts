// The write path below host I/O (patent Fig. 15; docs/ARCHITECTURE.md): the data lands
// on the volume, then each pair whose M-VOL it is decides where else it goes.
// Callers hold the site lock. The tables passed in are only looked at (they may be
// the site's frozen view); a pair that falls to PSUE or SSWS is saved through update().
import {MarklogError, TakenOverError} from '../errors.js';
import {linkOf, peerLinkOf} from '../site/connect.js';
import {PairBitmap} from '../pair/bitmap.js';
import {GapNotes, gapOf} from '../log/log-gap.js';
import type {Site} from '../site/site.js';
import type {PairRow, Tables, VolumeRow} from '../site/tables.js';

export interface WriteOutcome {
  /** Pairs that dropped to PSUE because their R-VOL or log could not be written, and why. */
  suspendedByError: {pair: number; reason: string}[];
  /** Pairs whose R-VOL was taken over at the remote (SSWS): the write is tracked for failback. */
  takenOver: number[];
  /** Log records written for this write, one per logging pair. */
  logged: {group: number; logId: number}[];
  warnings: string[];
}

/** New values for pair rows, saved once the write has gone everywhere it could. */
type PairChanges = Map<number, Partial<PairRow>> & {gaps?: GapNotes};

function gapNotes(changes: PairChanges): GapNotes {
  return (changes.gaps ??= new GapNotes());
}

/** A write of a logging pair that made no log record: the group's first such write is its gap. */
function noteUnlogged(tables: Tables, pair: PairRow, reason: string, changes: PairChanges): void {
  if (!gapOf(tables, pair.logGroup!)) gapNotes(changes).unlogged(tables, pair, reason);
}

export function writeThrough(site: Site, tables: Tables, volume: VolumeRow, offset: number, data: Uint8Array): WriteOutcome {
  site.image(volume).write(offset, data);
  const outcome: WriteOutcome = {suspendedByError: [], takenOver: [], logged: [], warnings: []};
  const changes: PairChanges = new Map<number, Partial<PairRow>>();
  if (volume.rvolOf?.takeover) followTakeover(site, tables, volume, offset, data, outcome);
  for (const pair of tables.pairs) {
    if (pair.mvol !== volume.ldev || pair.direction === 'reverse') continue;
    const failure = propagate(site, tables, pair, offset, data, outcome, changes);
    if (failure) outcome.suspendedByError.push({pair: pair.pair, reason: failure});
  }
  if (changes.size > 0 || (changes.gaps && !changes.gaps.empty)) {
    site.update(current => {
      for (const [pair, change] of changes) Object.assign(site.pair(current, pair), change);
      changes.gaps?.save(current);
    });
  }
  return outcome;
}

/**
 * At the remote after takeover (Fig. 22): the R-VOL takes host writes and its own
 * bitmap tracks them for failback; after failback (direction reverse) each write
 * also goes back to the M-VOL at the primary.
 */
function followTakeover(site: Site, tables: Tables, volume: VolumeRow, offset: number, data: Uint8Array, outcome: WriteOutcome): void {
  const claim = volume.rvolOf!;
  const bitmap = PairBitmap.open(site.path(claim.takeover!.bitmap), site.lock.hold);
  try {
    if (claim.direction !== 'reverse') {
      bitmap.markRange(offset, data.length);
      return;
    }
    try {
      peerLinkOf(site, tables, claim.primarySite).writeRvol(claim.mvol, offset, data);
    } catch (error) {
      bitmap.markRange(offset, data.length);
      outcome.warnings.push(`the M-VOL at the primary was not written (${(error as Error).message}); the change is tracked here`);
    }
  } finally {
    bitmap.close();
  }
}

/** Sends the write where the pair's state says; returns why, when the pair fell to PSUE. */
function propagate(site: Site, tables: Tables, pair: PairRow, offset: number, data: Uint8Array, outcome: WriteOutcome, changes: PairChanges): string | undefined {
  const bitmap = PairBitmap.open(site.path(pair.bitmap), site.lock.hold);
  try {
    // A logging pair outside PSUS (resynchronising, back in PAIR, PSUE) sends nothing to the log.
    if (pair.logGroup !== null && pair.state !== 'PSUS') noteUnlogged(tables, pair, pair.suspendedBy ?? pair.state, changes);
    switch (pair.state) {
      case 'PAIR':
        return replicate(site, tables, pair, bitmap, offset, data, outcome, changes);
      case 'COPY': {
        // Fig. 15: the part behind the copy pointer is replicated now; the part
        // ahead is only marked, and the copy carries it.
        const copiedUpTo = Math.min(bitmap.copyPointer * bitmap.chunkSize, offset + data.length);
        const behind = Math.max(0, copiedUpTo - offset);
        if (behind < data.length) bitmap.markRange(offset + behind, data.length - behind);
        return behind === 0 ? undefined : replicate(site, tables, pair, bitmap, offset, data.subarray(0, behind), outcome, changes);
      }
      case 'PSUS':
        bitmap.markRange(offset, data.length);
        return pair.logGroup === null ? undefined : log(site, tables, pair, offset, data, outcome, changes);
      case 'SSWS':
        bitmap.markRange(offset, data.length);
        outcome.takenOver.push(pair.pair);
        return undefined;
      default:
        bitmap.markRange(offset, data.length);
        return undefined;
    }
  } finally {
    bitmap.close();
  }
}

function replicate(site: Site, tables: Tables, pair: PairRow, bitmap: PairBitmap, offset: number, data: Uint8Array, outcome: WriteOutcome, changes: PairChanges): string | undefined {
  try {
    linkOf(site, tables).writeRvol(pair.rvol.ldev, offset, data);
    return undefined;
  } catch (error) {
    // The host write already landed on the M-VOL: keep it, track it, and say why.
    bitmap.markRange(offset, data.length);
    return suspend(pair, error, outcome, changes);
  }
}

/** Log mode: the write becomes a record in the group's log at the remote. */
function log(site: Site, tables: Tables, pair: PairRow, offset: number, data: Uint8Array, outcome: WriteOutcome, changes: PairChanges): string | undefined {
  try {
    const link = linkOf(site, tables);
    if (tables.logGaps?.length) gapNotes(changes).reportBefore(tables, link, pair.logGroup!);
    const result = link.appendToLog(pair.logGroup!, [{kind: 'write', ldev: pair.rvol.ldev, address: offset, data}]);
    outcome.logged.push({group: pair.logGroup!, logId: result.appended[0].logId});
    outcome.warnings.push(...result.warnings);
    return undefined;
  } catch (error) {
    // The bit is already set: the write is on the M-VOL and tracked for resync.
    const why = suspend(pair, error, outcome, changes);
    if (!(error instanceof TakenOverError)) noteUnlogged(tables, pair, error instanceof MarklogError ? error.code : 'IO_ERROR', changes);
    return why;
  }
}

/** A pair whose copy failed: SSWS when the remote took over (no split brain), PSUE otherwise. */
function suspend(pair: PairRow, error: unknown, outcome: WriteOutcome, changes: PairChanges): string | undefined {
  if (error instanceof TakenOverError) {
    changes.set(pair.pair, {state: 'SSWS', logGroup: null});
    outcome.takenOver.push(pair.pair);
    return undefined;
  }
  changes.set(pair.pair, {state: 'PSUE', suspendedBy: error instanceof MarklogError ? error.code : 'IO_ERROR'});
  return (error as Error).message;
}
