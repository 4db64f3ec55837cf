// Pair suspend, resync and delete.
import fs from 'node:fs';
import {InvalidArgumentError, PairInLogGroupError, PairStateError} from '../errors.js';
import {linkOf} from '../site/link-opener.js';
import {repairInflight} from '../io/inflight.js';
import {PairBitmap} from './bitmap.js';
import {runCopy, type CopyProgress} from './copy.js';
import type {Site} from '../site/site.js';
import type {PairDirection, PairState} from '../site/tables.js';
import {reverseResync} from '../takeover/failback.js';

export interface PairStateChange {
  pair: number;
  previous: PairState;
  state: PairState;
  /** Set when the command found nothing to do; says why. */
  note?: string;
}

/** Stops replication; from now on writes only set bitmap bits. */
export function suspendPair(site: Site, pairNumber: number): Promise<PairStateChange> {
  return site.lock.runAsync(async () => {
    await repairInflight(site);
    return site.update(tables => {
      const pair = site.pair(tables, pairNumber);
      const previous = pair.state;
      if (previous === 'PSUS') return {pair: pairNumber, previous, state: previous, note: 'already suspended'};
      if (previous !== 'PAIR' && previous !== 'COPY' && previous !== 'PSUE') {
        throw new PairStateError(`pair ${pairNumber} is ${previous}; only PAIR, COPY or PSUE pairs can be suspended`);
      }
      pair.state = 'PSUS';
      return {pair: pairNumber, previous, state: 'PSUS'};
    });
  });
}

export interface ResyncResult extends PairStateChange {
  copiedBytes: number;
  direction: PairDirection;
}

/**
 * Copies only the chunks whose bits are set, then returns the pair to PAIR.
 * With `reverse`, fails back after a takeover (or swaps a reversed pair back).
 */
export async function resyncPair(site: Site, pairNumber: number, onProgress?: (progress: CopyProgress) => void, options: {reverse?: boolean; full?: boolean} = {}): Promise<ResyncResult> {
  if (options.reverse && options.full) throw new InvalidArgumentError('--full copies M-VOL → R-VOL; a reverse resync already copies every chunk changed at either site');
  if (options.reverse) {
    const previous = site.pair(site.tables(), pairNumber).state;
    const result = await reverseResync(site, pairNumber, onProgress);
    return {pair: pairNumber, previous, state: result.state, copiedBytes: result.copiedBytes, direction: result.direction};
  }
  // A host write killed after it reached the M-VOL, before its bit was set, is tracked first: the copy then carries it.
  await site.lock.runAsync(() => repairInflight(site));
  const start = await site.updateAsync(async tables => {
    const pair = site.pair(tables, pairNumber);
    const previous = pair.state;
    if (previous === 'PAIR' && !options.full) return {previous, copy: false};
    if (previous === 'SSWS') {
      throw new PairStateError(`pair ${pairNumber} was taken over at the remote (SSWS)`, 'fail back with `marklog pair resync --reverse`');
    }
    if (pair.direction === 'reverse') {
      throw new PairStateError(`pair ${pairNumber} runs in reverse since failback`, 'swap it back with `marklog pair resync --reverse`');
    }
    if (previous !== 'PSUS' && previous !== 'PSUE' && previous !== 'COPY' && !(options.full && previous === 'PAIR')) {
      throw new PairStateError(`pair ${pairNumber} is ${previous} and cannot be resynchronised`);
    }
    await linkOf(site, tables);
    pair.suspendedBy = null;
    if (previous !== 'COPY' || options.full) {
      const bitmap = PairBitmap.open(site.path(pair.bitmap));
      // --full: every chunk, as at pair create (Fig. 14), for a change the bitmap never saw
      // (an image changed behind marklog's back); writes meanwhile follow the copy pointer.
      if (options.full) bitmap.markRange(0, bitmap.geometry.capacity);
      bitmap.copyPointer = 0;
      bitmap.close();
      pair.state = 'COPY';
    }
    return {previous, copy: true};
  });
  if (!start.copy) {
    return {pair: pairNumber, previous: 'PAIR', state: 'PAIR', copiedBytes: 0, direction: 'forward', note: 'pair is already in PAIR state; nothing to copy'};
  }
  const copy = await runCopy(site, pairNumber, onProgress);
  return {pair: pairNumber, previous: start.previous, state: copy.state, copiedBytes: copy.copiedBytes, direction: 'forward'};
}

export interface PairDeleteResult extends PairStateChange {
  /** The log group the R-VOL was taken out of (--force), if it was in one. */
  leftGroup: number | null;
}

/**
 * Removes the pair, its bitmap and the R-VOL reservation; the data on both volumes
 * stays. An R-VOL that is the base of a log group's log is only let go with `force`,
 * and then leaves the group (see releaseRvol).
 */
export function deletePair(site: Site, pairNumber: number, options: {force?: boolean} = {}): Promise<PairDeleteResult> {
  return site.updateAsync(async tables => {
    const pair = site.pair(tables, pairNumber);
    if (pair.logGroup !== null && !options.force) {
      throw new PairInLogGroupError(`pair ${pairNumber} logs into log group ${pair.logGroup}; deleting it would let its R-VOL, the group's base, change unseen`,
        `restore what you need first; --force takes the R-VOL out of log group ${pair.logGroup}, whose marks then no longer restore it`);
    }
    const {leftGroup} = await (await linkOf(site, tables)).releaseRvol(pair.rvol.ldev, {pair: pair.pair, primarySite: tables.site.id, mvol: pair.mvol}, {force: options.force});
    tables.pairs = tables.pairs.filter(p => p.pair !== pairNumber);
    const mvol = tables.volumes.find(v => v.ldev === pair.mvol);
    if (mvol) mvol.pairs = mvol.pairs.filter(p => p !== pairNumber);
    fs.rmSync(site.path(pair.bitmap), {force: true});
    return {pair: pairNumber, previous: pair.state, state: 'SMPL' as PairState, leftGroup};
  });
}
