// Two linked sites in a temp directory, built through marklog's library API only
// (the same calls the CLI commands make), plus raw files for the baselines.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {initSite, linkSites, type LinkOptions} from '../../src/site/site-admin.js';
import {Site} from '../../src/site/site.js';
import {closeLink} from '../../src/site/link-opener.js';
import {createVolume} from '../../src/volume/volume-admin.js';
import {createPair} from '../../src/pair/pair-create.js';
import {startLogging} from '../../src/log/log-start.js';
import {pickDistinct, prng} from './measure.js';
import {MiB, type Params} from './params.js';

export interface Sites {
  dir: string;
  primaryDir: string;
  remoteDir: string;
  primary: Site;
  remote: Site;
}

/** How the primary reaches a remote site made at `remoteDir` (an address for `site link --remote`); by default, the directory itself. */
export type Reach = (remoteDir: string) => Promise<{remote: string; options?: LinkOptions}>;

export async function twoSites(root: string, name: string, reach?: Reach): Promise<Sites> {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, {recursive: true});
  const primaryDir = path.join(dir, 'primary');
  const remoteDir = path.join(dir, 'remote');
  initSite({dir: primaryDir, role: 'primary', name: `${name}-primary`});
  initSite({dir: remoteDir, role: 'remote', name: `${name}-remote`});
  const {remote, options} = reach ? await reach(remoteDir) : {remote: remoteDir, options: undefined};
  await linkSites(primaryDir, remote, options);
  return {dir, primaryDir, remoteDir, primary: Site.open(primaryDir), remote: Site.open(remoteDir)};
}

export function closeSites(sites: Sites): void {
  closeLink(sites.primary);
  sites.primary.close();
  sites.remote.close();
}

/** Drops and reopens the handles (fresh image caches and link). */
export function reopen(sites: Sites): void {
  closeSites(sites);
  sites.primary = Site.open(sites.primaryDir);
  sites.remote = Site.open(sites.remoteDir);
}

export function volume(site: Site, capacity: number, pool = false): number {
  return createVolume(site, capacity, pool).ldev;
}

/** The raw image file of a volume (DESIGN §2: usable by other tools as-is). */
export function imageOf(site: Site, ldev: number): string {
  return site.path(site.volume(site.tables(), ldev).image);
}

/** A buffer of incompressible bytes. */
export function randomPool(bytes: number): Buffer {
  const pool = Buffer.allocUnsafe(bytes);
  crypto.randomFillSync(pool);
  return pool;
}

/**
 * Fills a raw image file with data where `isData(mib)` says so (1 MiB extents),
 * leaving holes elsewhere. Written with plain file I/O before the volume is paired.
 */
export function fillImage(file: string, capacity: number, pool: Buffer, isData: (mib: number) => boolean = () => true): number {
  const fd = fs.openSync(file, 'r+');
  let written = 0;
  try {
    const extents = Math.ceil(capacity / MiB);
    for (let i = 0; i < extents; i++) {
      if (!isData(i)) continue;
      const length = Math.min(MiB, capacity - i * MiB);
      const at = (i * 4096) % (pool.length - MiB);
      const piece = pool.subarray(at, at + length);
      // Stamp the extent number so no two extents are alike.
      piece.writeUInt32LE(i, 0);
      fs.writeSync(fd, piece, 0, length, i * MiB);
      written += length;
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return written;
}

export interface LoggingFixture extends Sites {
  mvol: number;
  rvol: number;
  logLdev: number;
  pair: number;
  group: number;
}

/**
 * A pair in log mode: M-VOL (optionally pre-filled by `prepare`), R-VOL, a pool
 * volume at the remote that becomes the log, pair create, log start.
 */
export async function loggingFixture(root: string, name: string, capacity: number, logCapacity: number, prepare?: (mvolImage: string) => void, reach?: Reach): Promise<LoggingFixture> {
  const sites = await twoSites(root, name, reach);
  const mvol = volume(sites.primary, capacity);
  const rvol = volume(sites.remote, capacity);
  const logLdev = volume(sites.remote, roundUp(logCapacity, MiB), true);
  prepare?.(imageOf(sites.primary, mvol));
  const {pair} = await createPair(sites.primary, {mvol, rvol});
  const {group} = await startLogging(sites.primary, {pairs: [pair]});
  reopen(sites);
  return {...sites, mvol, rvol, logLdev, pair, group};
}

export function roundUp(value: number, unit: number): number {
  return Math.ceil(value / unit) * unit;
}


/** Allocated bytes of a file (holes excluded). */
export function allocated(file: string): number {
  return fs.statSync(file).blocks * 512;
}

export {sha256File as sha256} from '../../src/util/file-hash.js';

/** The unique-block workload of rows 8 and 14: records of --record-kib on distinct blocks of the volume, and the data pool they come from. */
export function uniqueBlocks(p: Params, seed: number): {blockSize: number; capacity: number; records: number; blocks: number[]; pool: Buffer} {
  const blockSize = p.recordKib * 1024;
  const capacity = p.uniqueVolMib * MiB;
  const records = Math.min(Math.floor(p.uniqueLogMib * MiB / blockSize), capacity / blockSize);
  return {blockSize, capacity, records, blocks: pickDistinct(capacity / blockSize, records, prng(seed)), pool: randomPool(32 * MiB)};
}
