// The temporaries a restore writes before its result becomes visible: a new image
// as `<target>.partial-PID`, and for a restore onto the M-VOLs one staging image
// per volume in the remote site's directory. Every name carries the PID of its
// restore, so a later run (and verify) tells one whose restore died — to be
// cleared — from one still being written.
import fs from 'node:fs';
import path from 'node:path';

const PARTIAL = '.partial-';
const STAGING = /^restore-staging-\d+\.img\.partial-(\d+)$/;
/** Staging names of versions before the PID came last: restore-PID-RVOL.img, and its own partial. */
const OLD_STAGING = /^restore-(\d+)-\d+\.img(?:\.partial-\d+)?$/;

export function partialName(file: string): string {
  return `${file}${PARTIAL}${process.pid}`;
}

/** Where a restore onto the M-VOLs builds R-VOL `rvol`'s image before sending it. */
export function stagingFile(siteDir: string, rvol: number): string {
  return partialName(path.join(siteDir, `restore-staging-${String(rvol).padStart(4, '0')}.img`));
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function abandoned(pid: number): boolean {
  return Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid);
}

/** Removes the temporaries of restores to this file whose process is gone (killed mid-way). */
export function clearAbandonedPartials(file: string): void {
  const prefix = `${path.basename(file)}${PARTIAL}`;
  for (const name of fs.readdirSync(path.dirname(file))) {
    if (name.startsWith(prefix) && abandoned(Number(name.slice(prefix.length)))) fs.rmSync(path.join(path.dirname(file), name), {force: true});
  }
}

export interface AbandonedStaging {
  file: string;
  pid: number;
  /** The image's size, and what it occupies on disk (it is sparse where the base was). */
  size: number;
  allocated: number;
}

/** Staging images in a site directory whose restore is gone. */
export function abandonedStaging(siteDir: string): AbandonedStaging[] {
  const found: AbandonedStaging[] = [];
  for (const name of fs.readdirSync(siteDir)) {
    const match = STAGING.exec(name) ?? OLD_STAGING.exec(name);
    if (!match || !abandoned(Number(match[1]))) continue;
    const file = path.join(siteDir, name);
    try {
      const stat = fs.statSync(file);
      found.push({file, pid: Number(match[1]), size: stat.size, allocated: stat.blocks * 512});
    } catch {
      // Cleared by someone else meanwhile.
    }
  }
  return found;
}

export function clearAbandonedStaging(siteDir: string): void {
  for (const {file} of abandonedStaging(siteDir)) fs.rmSync(file, {force: true});
}
