// marklog verify: read everything a site holds and say what is wrong, where, and
// what to do. It changes nothing.
import fs from 'node:fs';
import {MarklogError} from '../errors.js';
import {PairBitmap} from '../pair/bitmap.js';
import {linkOf} from '../site/link-opener.js';
import {Site} from '../site/site.js';
import {REPAIR_HINT, legacyRegistryPath, registryPath, loadRegistry} from '../mark/host-registry.js';
import {VolumeImage} from '../volume/image.js';
import {checkLogGroup, type LogSummary} from './check-log.js';
import {checkPairContent} from './check-pair-content.js';
import {checkLogState} from './check-log-state.js';
import {Findings, type Finding} from './finding.js';
import {checkOrphanImages} from './check-orphans.js';
import {checkRecovery} from './check-recovery.js';
import {INFLIGHT_FILE, writesInFlight} from '../io/inflight.js';
import type {PairRow, Tables} from '../site/tables.js';
import type {Inflight} from '../format/inflight-format.js';

export interface VerifyOptions {
  group?: number;
  /** Compare M-VOL and R-VOL of PAIR pairs chunk by chunk. */
  deep?: boolean;
}

export interface VerifyResult {
  site: string;
  clean: boolean;
  checked: {volumes: number; pairs: number; groups: LogSummary[]; deepBytes: number};
  findings: Finding[];
}

export async function verifySite(dir: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const findings = new Findings();
  const result: VerifyResult = {site: dir, clean: false, checked: {volumes: 0, pairs: 0, groups: [], deepBytes: 0}, findings: findings.list};
  let site: Site;
  let tables: Tables;
  try {
    site = Site.open(dir);
    tables = site.tables();
  } catch (error) {
    if (!(error instanceof MarklogError)) throw error;
    findings.error('tables', dir, error.message, error.hint ?? 'restore tables.json from a backup');
    return result;
  }
  result.site = site.dir;

  for (const volume of tables.volumes) {
    result.checked.volumes++;
    findings.guard('volume-image', `LDEV ${volume.ldev}`, 'restore the image file, or re-import it', () => {
      const image = VolumeImage.open(site.path(volume.image), volume.capacity);
      image.close();
    });
  }
  checkOrphanImages(site, tables, findings);
  // Under the lock: a live writer sets its slots and clears them within one hold, so
  // what is set then was left by a process that died.
  const inFlight = site.lock.run(() => writesInFlight(site.dir));
  if (inFlight.length > 0) {
    const first = inFlight[0];
    findings.warning('writes-in-flight', `${site.dir}/${INFLIGHT_FILE}`,
      `${inFlight.length} write(s) a killed process left in flight (first: LDEV ${first.ldev}, ${first.length} bytes at ${first.offset}); their R-VOL copies or log records may lag the M-VOL`,
      'any `marklog write` or `marklog mark` at this site sends them on (FORMAT.md §5); verify again after it');
  }
  for (const pair of tables.pairs) {
    result.checked.pairs++;
    await checkPair(site, tables, pair, options, findings, result, inFlight);
  }
  checkRecovery(site, tables, findings, options.group);
  for (const group of tables.groups) {
    if (options.group !== undefined && group.group !== options.group) continue;
    result.checked.groups.push(checkLogGroup(site, tables, group, findings));
  }
  checkLogState(site, tables, findings, options.group);
  if (fs.existsSync(registryPath(site.dir)) || fs.existsSync(legacyRegistryPath(site.dir))) {
    findings.guard('host-registry', registryPath(site.dir), REPAIR_HINT, () => {
      loadRegistry(site.dir);
    });
  }
  site.close();
  result.clean = findings.list.every(f => f.severity !== 'error') && findings.list.length === 0;
  return result;
}

async function checkPair(site: Site, tables: Tables, pair: PairRow, options: VerifyOptions, findings: Findings, result: VerifyResult, inFlight: readonly Inflight[]): Promise<void> {
  const where = `pair ${pair.pair}`;
  const mvol = tables.volumes.find(v => v.ldev === pair.mvol);
  if (!mvol) {
    findings.error('pair-mvol', where, `M-VOL LDEV ${pair.mvol} is not in the volume table`, 'restore the tables from a backup');
    return;
  }
  let dirty = 0;
  findings.guard('pair-bitmap', where, 'suspend the pair and resync it: the copy is rebuilt from the M-VOL', () => {
    const bitmap = PairBitmap.open(site.path(pair.bitmap));
    try {
      if (bitmap.geometry.capacity !== mvol.capacity || bitmap.chunkSize !== pair.chunkSize) {
        throw new Error(`bitmap geometry (${bitmap.geometry.capacity} bytes in ${bitmap.chunkSize}-byte chunks) does not match the pair`);
      }
      dirty = bitmap.dirtyCount();
      if (pair.state === 'PAIR' && dirty > 0 && pair.direction !== 'reverse') {
        findings.error('pair-dirty', where, `pair is PAIR but ${dirty} chunk(s) are marked different`, `\`marklog pair resync --site ${site.dir} --pair ${pair.pair} --full\``);
      }
    } finally {
      bitmap.close();
    }
  });
  let link;
  try {
    link = await linkOf(site, tables);
  } catch (error) {
    findings.warning('link', where, `the remote was not checked: ${(error as Error).message}`, 'check the link and run verify again');
    return;
  }
  const far = await link.describeVolume(pair.rvol.ldev);
  if (!far) {
    findings.error('pair-rvol', where, `R-VOL LDEV ${pair.rvol.ldev} does not exist at ${pair.rvol.name}`, 'delete the pair and create it again');
    return;
  }
  if (!far.rvolOf || far.rvolOf.pair !== pair.pair || far.rvolOf.primarySite !== tables.site.id || far.rvolOf.mvol !== pair.mvol) {
    findings.error('pair-claim', where, `the remote does not record LDEV ${pair.rvol.ldev} as this pair's R-VOL`, 'delete the pair and create it again');
  }
  if (options.deep && pair.state === 'PAIR') result.checked.deepBytes += await checkPairContent(site, pair, mvol, link, findings, inFlight);
}
