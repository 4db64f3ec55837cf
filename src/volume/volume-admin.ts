// Volume create, import and list (patent Fig. 6, the volume configuration table).
import fs from 'node:fs';
import path from 'node:path';
import {FileNotSavedError, InvalidArgumentError, VolumeInUseError, VolumeIoError} from '../errors.js';
import {findSameImage} from '../site/same-image.js';
import {imageIdentity} from './image-identity.js';
import {SECTOR, checkCapacity} from '../util/units.js';
import {volumeImageName} from '../site/layout.js';
import {VolumeImage} from './image.js';
import {freeLdev} from './orphan.js';
import type {Site} from '../site/site.js';
import type {Tables, VolumeRow} from '../site/tables.js';

export interface VolumeSummary {
  ldev: number;
  id: string;
  capacity: number;
}

/** A WWN-like identifier (NAA 6 form): the site's id then the LDEV, unique across sites. */
function volumeId(tables: Tables, ldev: number): string {
  return `naa.6${tables.site.id.slice(0, 15)}${ldev.toString(16).padStart(16, '0')}`;
}

function addRow(tables: Tables, image: string, capacity: number, pool: boolean): VolumeRow {
  const ldev = tables.next.ldev;
  const row: VolumeRow = {
    ldev,
    id: volumeId(tables, ldev),
    hostType: 'OPEN-V',
    pathDefined: !pool,
    state: 'NORMAL',
    reserve: pool ? 'POOL' : 'none',
    pairs: [],
    logGroup: null,
    capacity,
    image,
    rvolOf: null,
    generation: 0,
  };
  tables.volumes.push(row);
  tables.next.ldev = ldev + 1;
  return row;
}

export interface CreatedVolume extends VolumeSummary {
  warnings: string[];
}

/**
 * The image first, then the row (see orphan.ts for why this order, and what a
 * crash in between leaves for the next create to take back).
 */
export function createVolume(site: Site, capacity: number, pool = false): CreatedVolume {
  checkCapacity(capacity);
  return site.lock.run(() => {
    const tables = site.tables();
    const {ldev, skipped} = freeLdev(site, tables);
    const name = volumeImageName(ldev);
    VolumeImage.create(site.path(name), capacity);
    try {
      tables.next.ldev = ldev;
      const row = addRow(tables, name, capacity, pool);
      site.save(tables);
      const warnings = skipped.map(file => `${file} holds data but no volume row names it; it was left alone and this volume is LDEV ${ldev} (see \`marklog verify\`)`);
      return {ldev: row.ldev, id: row.id, capacity, warnings};
    } catch (error) {
      // The tables were not replaced, so nothing names the image made a moment ago.
      if (error instanceof FileNotSavedError) fs.rmSync(site.path(name), {force: true});
      throw error;
    }
  });
}

/** Adopts an existing raw image where it lies; its size becomes the capacity. */
export async function importVolume(site: Site, imagePath: string, pool = false): Promise<VolumeSummary> {
  const file = path.resolve(imagePath);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new VolumeIoError(`image ${JSON.stringify(imagePath)} does not exist`);
  }
  if (!stat.isFile()) throw new InvalidArgumentError(`image ${JSON.stringify(imagePath)} is not a regular file`);
  if (stat.size === 0 || stat.size % SECTOR !== 0) {
    throw new InvalidArgumentError(`image ${JSON.stringify(imagePath)} is ${stat.size} bytes; a volume is a positive multiple of ${SECTOR} bytes`);
  }
  fs.accessSync(file, fs.constants.R_OK | fs.constants.W_OK);
  const identity = imageIdentity(file)!;
  return site.updateAsync(async tables => {
    const owner = tables.volumes.find(v => site.path(v.image) === file);
    if (owner) throw new InvalidArgumentError(`image ${JSON.stringify(imagePath)} is already LDEV ${owner.ldev}`);
    const same = await findSameImage(site, tables, identity);
    if (same) {
      throw new VolumeInUseError(`image ${JSON.stringify(imagePath)} is the same file as LDEV ${same.ldev} at ${same.site} (through another name, a link or the other site): two volumes on one file are no second copy`);
    }
    const row = addRow(tables, file, stat.size, pool);
    return {ldev: row.ldev, id: row.id, capacity: row.capacity};
  });
}

export function listVolumes(site: Site): VolumeRow[] {
  return site.tables().volumes;
}
