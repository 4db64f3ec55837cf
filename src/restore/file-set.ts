// A restore of several volumes into a directory gives one image per volume, all
// at one mark, or none. Each image is built and checked as `<file>.partial-PID`;
// only then is a marker written naming the set, the partials are renamed, and the
// marker goes. Killed between two renames, the restore leaves the marker, and the
// same restore run again finds it (its process gone) and finishes the renames,
// instead of refusing for good because the first images already exist.
import fs from 'node:fs';
import path from 'node:path';
import {writeFileAtomic} from '../util/atomic-file.js';
import {hookPoint} from '../util/test-hooks.js';
import {processAlive} from './staging.js';

const MARKER = /^\.marklog-restore-(\d+)\.json$/;
/** A marker whose own atomic write was cut short: nothing was renamed yet. */
const MARKER_TEMP = /^\.marklog-restore-(\d+)\.json\.tmp-\d+$/;

interface SetMarker {
  group: number;
  markId: number;
  files: string[];
}

function markerFile(dir: string, pid: number): string {
  return path.join(dir, `.marklog-restore-${pid}.json`);
}

function partialOf(file: string, pid: number): string {
  return `${file}.partial-${pid}`;
}

/** Renames a complete, checked set of `<file>.partial-PID` images to their names. */
export function publishSet(dir: string, group: number, markId: number, files: string[]): void {
  const marker = markerFile(dir, process.pid);
  writeFileAtomic(marker, `${JSON.stringify({group, markId, files} satisfies SetMarker)}\n`);
  for (const file of files) {
    fs.renameSync(partialOf(file, process.pid), file);
    hookPoint('restore:renamed-one');
  }
  fs.rmSync(marker, {force: true});
}

/**
 * Finishes the renames of a set that a dead restore of this group and mark to
 * these files had begun; true when every file is now in place.
 */
export function finishAbandonedSet(dir: string, group: number, markId: number, files: string[]): boolean {
  if (!fs.existsSync(dir)) return false;
  for (const name of fs.readdirSync(dir)) {
    const half = Number(MARKER_TEMP.exec(name)?.[1]);
    if (Number.isSafeInteger(half) && half !== process.pid && !processAlive(half)) fs.rmSync(path.join(dir, name), {force: true});
    const pid = Number(MARKER.exec(name)?.[1]);
    if (!Number.isSafeInteger(pid) || pid === process.pid || processAlive(pid)) continue;
    let marker: SetMarker;
    try {
      marker = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as SetMarker;
    } catch {
      continue;
    }
    if (marker.group !== group || marker.markId !== markId || marker.files.join('\n') !== files.join('\n')) continue;
    for (const file of files) if (fs.existsSync(partialOf(file, pid))) fs.renameSync(partialOf(file, pid), file);
    fs.rmSync(path.join(dir, name), {force: true});
    return files.every(file => fs.existsSync(file));
  }
  return false;
}
