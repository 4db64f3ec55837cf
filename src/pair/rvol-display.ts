// The remote's view of its R-VOLs (Fig. 7 as the recovery site sees it): which pair
// each belongs to, its state, which way the copy runs, and, after a takeover, when it
// was taken and at which mark, and how much hosts have changed since (what failback
// will copy back). The pair table lives at the primary; the state is asked of it when
// it answers, and otherwise told from what this site knows itself.
import {MarklogError} from '../errors.js';
import {peerLinkOf} from '../site/link-opener.js';
import {PairBitmap} from './bitmap.js';
import type {Site} from '../site/site.js';
import type {PairDirection, PairState, Tables, VolumeRow} from '../site/tables.js';

export interface RvolView {
  rvol: number;
  pair: number;
  /** The primary site's name (its id when this site does not know it). */
  primary: string;
  mvol: number;
  /** The pair's state; null when the primary did not answer and this site cannot tell. */
  state: PairState | null;
  /** Where the state comes from: this site's own record, or the primary's pair table. */
  stateFrom: 'remote' | 'primary' | null;
  direction: PairDirection;
  logGroup: number | null;
  /** When the R-VOL was taken over here (SSWS), or null. */
  takenOver: string | null;
  /** The mark the takeover brought it to (null: the end of the log, or no takeover). */
  takeoverMark: number | null;
  /** Chunks hosts changed here since the takeover, which failback copies back. */
  changedBytes: number;
}

export async function displayRvols(site: Site): Promise<RvolView[]> {
  const tables = site.tables();
  const views: RvolView[] = [];
  for (const row of tables.volumes.filter(v => v.rvolOf)) views.push(await viewOf(site, tables, row));
  return views;
}

async function viewOf(site: Site, tables: Tables, row: VolumeRow): Promise<RvolView> {
  const claim = row.rvolOf!;
  const takeover = claim.takeover ?? null;
  const direction = claim.direction ?? 'forward';
  const group = row.logGroup === null ? undefined : tables.groups.find(g => g.group === row.logGroup);
  let state: PairState | null = null;
  let stateFrom: RvolView['stateFrom'] = null;
  if (takeover && direction === 'forward') [state, stateFrom] = ['SSWS', 'remote'];
  else if (group?.mode === 'LOG') [state, stateFrom] = ['PSUS', 'remote'];
  else {
    try {
      const far = await (await peerLinkOf(site, tables, claim.primarySite)).describePair(claim.pair);
      if (far) [state, stateFrom] = [far.state, 'primary'];
    } catch (error) {
      if (!(error instanceof MarklogError)) throw error;
    }
  }
  return {
    rvol: row.ldev, pair: claim.pair, primary: tables.peers.find(p => p.siteId === claim.primarySite)?.name ?? claim.primarySite, mvol: claim.mvol,
    state, stateFrom, direction, logGroup: row.logGroup, takenOver: takeover?.since ?? null, takeoverMark: takeover?.markId ?? null,
    changedBytes: takeover ? changedSince(site, takeover.bitmap) : 0,
  };
}

function changedSince(site: Site, bitmapName: string): number {
  const bitmap = PairBitmap.open(site.path(bitmapName));
  try {
    return bitmap.dirtyRanges().reduce((sum, range) => sum + range.length, 0);
  } finally {
    bitmap.close();
  }
}
