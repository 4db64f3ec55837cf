// What `marklog serve` offers (docs/NBD.md §3): one export per volume hosts may
// write, and the transmission flags every export carries.
import {InvalidArgumentError} from '../errors.js';
import {TransmissionFlag} from '../format/nbd-protocol.js';
import {checkHostAccess} from '../io/host-io.js';
import {MarkImage} from '../restore/mark-image.js';
import type {Site} from '../site/site.js';

export interface NbdExport {
  ldev: number;
  /** The names a client may ask for: the LDEV number, the volume id, and "" when it is the only export. */
  names: string[];
  capacity: number;
  /** A mark export reads the volume as it was at the mark, from the base and the log; others read the volume. */
  image?: MarkImage;
}

/**
 * CAN_MULTI_CONN: one process serves every connection through one host write path,
 * a write is in the shared image and log files before it is answered, and FLUSH
 * syncs those files; so a FLUSH on any connection covers the writes answered on all
 * of them (docs/NBD.md §5).
 */
const COMMON = TransmissionFlag.hasFlags | TransmissionFlag.sendFlush | TransmissionFlag.sendFua | TransmissionFlag.sendCache
  | TransmissionFlag.canMultiConn;

/** The flags of every export: read-only ones offer neither TRIM nor WRITE_ZEROES. */
export function transmissionFlags(readOnly: boolean): number {
  return readOnly ? COMMON | TransmissionFlag.readOnly : COMMON | TransmissionFlag.sendTrim | TransmissionFlag.sendWriteZeroes;
}

/** The exports of a site: every volume hosts may write now (or the ones asked for). */
export function exportsOf(site: Site, ldevs?: number[]): NbdExport[] {
  const tables = site.view();
  const chosen = ldevs ? ldevs.map(ldev => site.volume(tables, ldev)) : tables.volumes.filter(v => {
    try {
      checkHostAccess(tables, v, true);
      return true;
    } catch {
      return false;
    }
  });
  if (ldevs) for (const volume of chosen) checkHostAccess(tables, volume, true);
  if (chosen.length === 0) throw new InvalidArgumentError(`${tables.site.name} has no volume hosts may write; create one with \`marklog volume create\``);
  return chosen.map(v => ({ldev: v.ldev, names: [String(v.ldev), v.id, ...(chosen.length === 1 ? [''] : [])], capacity: v.capacity}));
}

/** The exports of a mark at a remote: one per R-VOL of the group (or the one asked for), read-only, named by its LDEV. */
export function markExportsOf(site: Site, mark: {group: number; markId: number; rvol?: number}): NbdExport[] {
  const images = MarkImage.open(site, mark);
  return images.map(image => ({ldev: image.rvol, names: [String(image.rvol), ...(images.length === 1 ? [''] : [])], capacity: image.capacity, image}));
}
