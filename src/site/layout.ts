// Where things live inside a site directory. Nothing else builds these paths.
import path from 'node:path';

export const TABLES_FILE = 'tables.json';
export const LOCK_FILE = 'lock';
export const VOLUMES_DIR = 'volumes';
export const PAIRS_DIR = 'pairs';

export function tablesPath(dir: string): string {
  return path.join(dir, TABLES_FILE);
}

export function lockPath(dir: string): string {
  return path.join(dir, LOCK_FILE);
}

export function volumeImageName(ldev: number): string {
  return path.join(VOLUMES_DIR, `ldev-${String(ldev).padStart(4, '0')}.img`);
}

export function pairBitmapName(pair: number): string {
  return path.join(PAIRS_DIR, `pair-${String(pair).padStart(4, '0')}.bitmap`);
}

/** An image path from the volume table: relative to the site, or absolute when imported. */
export function resolveInSite(dir: string, name: string): string {
  return path.isAbsolute(name) ? name : path.join(dir, name);
}

/** The bitmap a taken-over R-VOL keeps at the remote, for failback. */
export function takeoverBitmapName(ldev: number): string {
  return path.join(PAIRS_DIR, `rvol-${String(ldev).padStart(4, '0')}.bitmap`);
}

/** The ranges a taken-over R-VOL handed to failback and the primary has not yet confirmed. */
export function handoverBitmapName(ldev: number): string {
  return path.join(PAIRS_DIR, `rvol-${String(ldev).padStart(4, '0')}.handover.bitmap`);
}
