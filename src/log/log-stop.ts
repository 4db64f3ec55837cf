// Log stop: the group leaves log mode. From the primary, its pairs stop sending
// records (they stay PSUS, the bitmap tracks changes; `pair resync` brings them
// back to PAIR). At the remote alone, only the group's mode changes.
import {LogModeError} from '../errors.js';
import {linkOf} from '../site/link-opener.js';
import {stopLogAtRemote} from './log-admin.js';
import {reportGapIn} from './log-gap.js';
import type {Site} from '../site/site.js';

export interface LogStopResult {
  group: number;
  pairs: number[];
}

export async function stopLogging(site: Site, group: number): Promise<LogStopResult> {
  const tables = site.tables();
  if (tables.site.role === 'remote') {
    stopLogAtRemote(site, group);
    return {group, pairs: []};
  }
  return site.updateAsync(async current => {
    const pairs = current.pairs.filter(p => p.logGroup === group);
    // The stopped log stays for restores: its site must know where it lost a write.
    await reportGapIn(current, await linkOf(site, current), group);
    try {
      await (await linkOf(site, current)).stopLogGroup(group);
    } catch (error) {
      // Stopped at the remote already (there, or by a log stop killed before this site
      // saved its tables): what is left is this site's half, so the rerun finishes it.
      if (!(error instanceof LogModeError) || pairs.length === 0) throw error;
    }
    for (const pair of pairs) pair.logGroup = null;
    return {group, pairs: pairs.map(p => p.pair)};
  });
}
