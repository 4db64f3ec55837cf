// Files in a site's volumes/ directory that no volume row names ("orphans"), and
// which of them are provably marklog's own abandoned images.
//
// `volume create` makes the image before the tables name it, and must: the other
// order would let a crash leave a row naming no file, a volume that fails every
// read. So a create killed in between leaves an image under the name the next
// create wants. Such an image was never written: it is all holes (SEEK_DATA finds
// nothing), holds no byte anyone could lose, and the next create takes it back.
// Anything else there (a file holding data: an image of tables restored from an
// older copy, a file put there by hand) is never deleted or adopted by marklog:
// LDEV numbers move past it, and `verify` names it with the command that adopts it.
import fs from 'node:fs';
import path from 'node:path';
import {fsx} from '../native/fsx.js';
import {VOLUMES_DIR, volumeImageName} from '../site/layout.js';
import type {Site} from '../site/site.js';
import type {Tables} from '../site/tables.js';

export interface OrphanImage {
  /** Path relative to the site directory, e.g. volumes/ldev-0001.img. */
  name: string;
  file: string;
  size: number;
  /** The LDEV whose image name it has, when it has one. */
  ldev?: number;
  /** A regular file with no data at all: what a killed `volume create` leaves. */
  abandoned: boolean;
}

/** True for a regular file holding no data (all holes, or empty). False when that cannot be proved. */
export function holdsNoData(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch {
    return false;
  }
  try {
    const stat = fs.fstatSync(fd);
    return stat.isFile() && (stat.size === 0 || fsx.seek(fd, 0, true) < 0);
  } catch {
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

function ldevOfName(name: string): number | undefined {
  const match = /^ldev-(\d+)\.img$/.exec(name);
  const ldev = match ? Number(match[1]) : Number.NaN;
  return Number.isSafeInteger(ldev) && volumeImageName(ldev) === path.join(VOLUMES_DIR, name) ? ldev : undefined;
}

function namedBy(site: Site, tables: Tables, file: string): boolean {
  return tables.volumes.some(v => site.path(v.image) === file);
}

/** Every entry of volumes/ that no row of `tables` names, in name order. */
export function orphanImages(site: Site, tables: Tables): OrphanImage[] {
  let names: string[];
  try {
    names = fs.readdirSync(path.join(site.dir, VOLUMES_DIR)).sort();
  } catch {
    return [];
  }
  const orphans: OrphanImage[] = [];
  for (const entry of names) {
    const file = path.join(site.dir, VOLUMES_DIR, entry);
    if (namedBy(site, tables, file)) continue;
    let size = 0;
    try {
      size = fs.lstatSync(file).size;
    } catch {
      continue;
    }
    orphans.push({name: path.join(VOLUMES_DIR, entry), file, size, ldev: ldevOfName(entry), abandoned: holdsNoData(file)});
  }
  return orphans;
}

export interface FreeLdev {
  ldev: number;
  /** Orphans that held the names before it and were left alone (they hold data). */
  skipped: string[];
}

/**
 * The LDEV for a new volume: the next number whose image name is free, after
 * taking back abandoned images under those names. Callers hold the site lock.
 */
export function freeLdev(site: Site, tables: Tables): FreeLdev {
  const skipped: string[] = [];
  for (let ldev = tables.next.ldev; ; ldev++) {
    const name = volumeImageName(ldev);
    const file = site.path(name);
    if (!fs.existsSync(file) && !isDanglingLink(file)) return {ldev, skipped};
    // An imported image that happens to lie there is a volume: just not this one.
    if (namedBy(site, tables, file)) continue;
    if (holdsNoData(file)) {
      fs.rmSync(file);
      return {ldev, skipped};
    }
    skipped.push(name);
  }
}

function isDanglingLink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}
