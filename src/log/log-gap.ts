// A gap in a group's log (patent Fig. 21: the log is full; or the remote is gone):
// a host write of the group reached its M-VOL but never became a log record. Every
// mark after it would promise an image the log cannot rebuild. The primary sees the
// write go unlogged and records it with the pair's new state; the site holding the
// log learns of it before the group's next record, or when a mark is refused. Both
// keep it through every later change of the pair or the log (suspend, resync,
// extend, apply) until `log start` takes a new base.
import {LogGapError, MarkAfterGapError} from '../errors.js';
import type {SiteLink} from '../site/link.js';
import type {Site} from '../site/site.js';
import type {LogGap, LogGroupRow, PairRow, Tables} from '../site/tables.js';

export const RESTART_HINT = 'stop the group, resync its pairs, then `marklog log start` a new base; `marklog verify` names the commands';

export function gapOf(tables: Tables, group: number): LogGap | undefined {
  return tables.logGaps?.find(g => g.group === group);
}

/** What one host write found out about its groups' gaps; saved with its pairs' changes. */
export class GapNotes {
  private readonly found = new Map<number, LogGap>();
  private readonly reported = new Map<number, number>();

  get empty(): boolean {
    return this.found.size === 0 && this.reported.size === 0;
  }

  /** The write reached the M-VOL of a logging pair but no log record. */
  unlogged(tables: Tables, pair: PairRow, reason: string): void {
    const group = pair.logGroup;
    if (group === null || this.found.has(group) || gapOf(tables, group)) return;
    this.found.set(group, {group, pair: pair.pair, mvol: pair.mvol, time: new Date().toISOString(), reason});
  }

  /** Before the group's next record: the log's site records the gap first, so it sits right after the last record. */
  async reportBefore(tables: Tables, link: SiteLink, group: number): Promise<void> {
    const gap = gapOf(tables, group);
    if (!gap || gap.afterLogId !== undefined || this.reported.has(group)) return;
    this.reported.set(group, (await link.recordLogGap(gap)).afterLogId);
  }

  save(tables: Tables): void {
    for (const gap of this.found.values()) if (!gapOf(tables, gap.group)) (tables.logGaps ??= []).push(gap);
    for (const [group, afterLogId] of this.reported) {
      const gap = gapOf(tables, group);
      if (gap) gap.afterLogId = afterLogId;
    }
  }
}

/** Tells the log's site about the group's gap unless it was told already; `tables` is being updated by the caller. */
export async function reportGapIn(tables: Tables, link: SiteLink, group: number): Promise<void> {
  const gap = gapOf(tables, group);
  if (gap && gap.afterLogId === undefined) gap.afterLogId = (await link.recordLogGap(gap)).afterLogId;
}

/** reportGapIn, with its own update of the tables (only when there is something to tell). */
export async function reportGap(site: Site, link: SiteLink, group: number): Promise<void> {
  const gap = gapOf(site.view(), group);
  if (gap && gap.afterLogId === undefined) await site.updateAsync(tables => reportGapIn(tables, link, group));
}

/** reportGap, where not reaching the log's site is no error: it is told at the next contact. */
export async function reportGapQuietly(site: Site, group: number, link: () => Promise<SiteLink>): Promise<void> {
  const gap = gapOf(site.view(), group);
  if (!gap || gap.afterLogId !== undefined) return;
  try {
    await reportGap(site, await link(), group);
  } catch {
    // Whoever asked goes on; a mark is refused all the same.
  }
}

/** At the primary: no mark once a write of the group went unlogged, whatever the pairs' states are now. */
export function refuseMarkAfterGap(tables: Tables, group: number): void {
  const gap = gapOf(tables, group);
  if (!gap) return;
  throw new LogGapError(`log group ${group} lost a write of pair ${gap.pair} on ${gap.time} (${gap.reason}): a mark now would not restore what the host wrote`, RESTART_HINT);
}

/** A log start is a new base: the group's old gap no longer matters. */
export function clearGaps(tables: Tables, group: number): void {
  if (tables.logGaps) tables.logGaps = tables.logGaps.filter(g => g.group !== group);
}

/** At the log's site: a mark placed after the group's lost write restores an image the host never had. */
export function refuseRestoreAfterGap(group: LogGroupRow, mark: {markId: number; logId: number}): void {
  const gap = group.gap;
  if (!gap || mark.logId <= gap.afterLogId) return;
  throw new MarkAfterGapError(
    `mark ${mark.markId} of log group ${group.group} was placed after a write its log never received (pair ${gap.pair}, ${gap.time}, ${gap.reason}); it does not restore what the host wrote`,
    `restore to a mark at or before log ID ${gap.afterLogId} (see \`marklog mark list\`)`);
}
