// Facts about a site's volumes that the remote's side of the link (src/endpoint/)
// and host I/O (src/io/) both need. The remote's side itself lives in src/endpoint/;
// this file keeps only what sits at the site-store layer, below the write path, so
// importing it from src/io/ makes no cycle.
import type {Site} from './site.js';
import type {RvolClaim, VolumeRow} from './tables.js';

export type ByteRange = {offset: number; length: number};

export function sameClaim(row: VolumeRow, claim: RvolClaim): boolean {
  return row.rvolOf !== null && row.rvolOf.pair === claim.pair && row.rvolOf.primarySite === claim.primarySite && row.rvolOf.mvol === claim.mvol;
}

/** What holds a volume, in words; undefined when it is free to become an R-VOL. */
export function volumeUse(row: VolumeRow): string | undefined {
  if (row.rvolOf) return `R-VOL of pair ${row.rvolOf.pair}${row.rvolOf.takeover ? ', taken over' : ''}`;
  if (row.reserve === 'LOG') return row.logGroup === null ? 'reserved as a log volume' : `log volume of log group ${row.logGroup}`;
  if (row.reserve === 'POOL') return 'in the pool';
  if (row.reserve !== 'none') return `reserved as ${row.reserve}`;
  if (row.pairs.length > 0) return `M-VOL of pair${row.pairs.length > 1 ? 's' : ''} ${row.pairs.join(', ')}`;
  if (row.logGroup !== null) return `member of log group ${row.logGroup}`;
  return undefined;
}

/** A base of a log group is changing outside log apply: its log no longer fits it. */
export function noteBaseChange(site: Site, row: VolumeRow): void {
  if (row.logGroup === null) return;
  site.update(tables => {
    site.volume(tables, row.ldev).generation += 1;
  });
}
