// Host I/O: the one entry point through which a host reads and writes a volume.
// The CLI `write`/`read` commands call these; a block-device front end will too.
// A write holds the site lock until it has gone everywhere, awaiting the remote.
import {PairBitmap} from '../pair/bitmap.js';
import {linkOf} from '../site/link-opener.js';
import {InvalidArgumentError, TakenOverError, VolumeInUseError, VolumeIoError} from '../errors.js';
import {writeThrough} from './write-through.js';
import {noteBaseChange} from '../site/remote-endpoint.js';
import {beginWrite, endWrite, repairInflight} from './inflight.js';
import type {Site} from '../site/site.js';
import type {Tables, VolumeRow} from '../site/tables.js';

export interface HostWriteOptions {
  /** Flush the written range to stable storage before returning (survives power loss). */
  sync?: boolean;
}

export interface HostWriteResult {
  ldev: number;
  offset: number;
  length: number;
  logged: {group: number; logId: number}[];
  warnings: string[];
}

/** Whether hosts may read (or write) this volume now; throws the reason they may not. */
export function checkHostAccess(tables: Tables, volume: VolumeRow, writing: boolean): void {
  const siteName = tables.site.name;
  if (volume.state !== 'NORMAL') throw new VolumeIoError(`LDEV ${volume.ldev} at ${siteName} is ${volume.state}`);
  if (!writing) return;
  if (volume.rvolOf && !volume.rvolOf.takeover) {
    throw new VolumeInUseError(`LDEV ${volume.ldev} at ${siteName} is the R-VOL of pair ${volume.rvolOf.pair}; hosts write to its M-VOL`);
  }
  const following = tables.pairs.find(p => p.mvol === volume.ldev && p.direction === 'reverse');
  if (following) {
    throw new VolumeInUseError(`LDEV ${volume.ldev} at ${siteName} follows its R-VOL since failback (pair ${following.pair}); write at the remote, or swap back with \`marklog pair resync --reverse\``);
  }
  if (volume.reserve !== 'none' && !volume.rvolOf?.takeover) {
    throw new VolumeInUseError(`LDEV ${volume.ldev} at ${siteName} is reserved as ${volume.reserve} and takes no host writes`);
  }
}

export async function hostWrite(site: Site, ldev: number, offset: number, data: Uint8Array, options: HostWriteOptions = {}): Promise<HostWriteResult> {
  if (data.length === 0) throw new InvalidArgumentError('nothing to write: the input is empty');
  return site.lock.runAsync(async () => {
    const before = site.view();
    const target = site.volume(before, ldev);
    checkHostAccess(before, target, true);
    site.image(target).checkRange(offset, data.length);
    // A volume still in a log group but given to hosts (released by an older marklog) is a base changing.
    if (target.logGroup !== null && !target.rvolOf) noteBaseChange(site, target);
    const repairWarnings: string[] = [];
    await repairInflight(site, warning => repairWarnings.push(warning));
    // Read after the repair, which may have moved a pair to PSUE.
    const tables = site.view();
    const volume = site.volume(tables, ldev);
    beginWrite(site, {ldev, offset, length: data.length});
    const outcome = await writeThrough(site, tables, volume, offset, data);
    endWrite(site);
    if (options.sync) await syncEverywhere(site, tables, volume);
    if (outcome.takenOver.length > 0) {
      throw new TakenOverError(`pair ${outcome.takenOver.join(', ')} was taken over at the remote site (SSWS); this write is kept on the M-VOL and tracked for failback`,
        'stop writing at this site; hosts now write at the remote, and `marklog pair resync --reverse` fails back');
    }
    const warnings = [...repairWarnings, ...outcome.warnings, ...outcome.suspendedByError.map(({pair, reason}) =>
      `pair ${pair} is now PSUE (${reason}); the write is kept on the M-VOL and tracked for resync`)];
    return {ldev, offset, length: data.length, logged: outcome.logged.map(({group, logId}) => ({group, logId})), warnings};
  });
}

export function hostRead(site: Site, ldev: number, offset: number, length: number): Buffer {
  const tables = site.view();
  const volume = site.volume(tables, ldev);
  checkHostAccess(tables, volume, false);
  return site.image(volume).read(offset, length);
}

/** --sync: the M-VOL, its bitmaps, and each copy and log the write reached, on stable storage. */
export async function syncEverywhere(site: Site, tables: Tables, volume: VolumeRow): Promise<void> {
  site.image(volume).syncAll();
  for (const pair of tables.pairs.filter(p => p.mvol === volume.ldev)) {
    const bitmap = PairBitmap.open(site.path(pair.bitmap));
    bitmap.flush();
    bitmap.close();
    if (pair.state === 'PAIR' || pair.state === 'COPY' || pair.logGroup !== null) await (await linkOf(site, tables)).flushRvol(pair.rvol.ldev);
  }
}
