// Log start (patent Figs. 16, 17): for pairs in PAIR state, have the remote
// prepare the log group, then suspend the pairs. Their R-VOLs are the frozen base
// of the group from that moment, and every later write becomes a log record.
import {InvalidArgumentError, LogModeError, PairStateError} from '../errors.js';
import {linkOf} from '../site/link-opener.js';
import {repairInflight} from '../io/inflight.js';
import {clearGaps} from './log-gap.js';
import type {Site} from '../site/site.js';

export interface LogStartOptions {
  pairs: number[];
  group?: number;
}

export interface LogStartResult {
  group: number;
  pairs: number[];
  logVolumes: number[];
  baseGeneration: number;
}

export async function startLogging(site: Site, options: LogStartOptions): Promise<LogStartResult> {
  if (options.pairs.length === 0) throw new InvalidArgumentError('name at least one pair with --pairs');
  if (new Set(options.pairs).size !== options.pairs.length) throw new InvalidArgumentError('a pair is named twice in --pairs');
  // The primary lock is held throughout so no host write slips between the base
  // freezing at the remote and the pairs leaving PAIR state.
  return site.lock.runAsync(async () => {
    // A write killed in flight reaches the R-VOLs before the pairs leave PAIR state.
    await repairInflight(site);
    return site.updateAsync(async tables => {
      const pairs = options.pairs.map(n => site.pair(tables, n));
      for (const pair of pairs) {
        if (pair.logGroup !== null) {
          throw new LogModeError(`pair ${pair.pair} already logs into log group ${pair.logGroup}`, `stop that group first with \`marklog log stop --group ${pair.logGroup}\``);
        }
        if (pair.state !== 'PAIR') throw new PairStateError(`pair ${pair.pair} is ${pair.state}; log start needs every pair in PAIR state`);
      }
      const link = await linkOf(site, tables);
      const prepared = await link.prepareLogGroup({
        group: options.group,
        primarySite: tables.site.id,
        members: pairs.map(p => ({rvol: p.rvol.ldev, mvol: p.mvol, pair: p.pair})),
      });
      for (const pair of pairs) {
        pair.state = 'PSUS';
        pair.logGroup = prepared.group;
      }
      clearGaps(tables, prepared.group);
      return {group: prepared.group, pairs: options.pairs, logVolumes: prepared.logVolumes, baseGeneration: prepared.baseGeneration};
    });
  });
}
