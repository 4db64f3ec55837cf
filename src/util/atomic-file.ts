// Management files are replaced whole: write a temporary, fsync it, rename it over
// the old one, fsync the directory. A crash leaves either the old or the new file,
// and perhaps the temporary of a writer killed before its rename: the next writer
// of the same file removes those, since no process would ever come back for them.
import fs from 'node:fs';
import path from 'node:path';
import {FileNotSavedError} from '../errors.js';

const TEMP = '.tmp-';

export function writeFileAtomic(file: string, data: string | Buffer): void {
  clearAbandonedTemporaries(file);
  const temp = `${file}${TEMP}${process.pid}`;
  try {
    const fd = fs.openSync(temp, 'w', 0o600);
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  } catch (error) {
    // Refused before the rename (EFBIG, ENOSPC, EIO…): the old file stands, and a
    // temporary this process gave up on would otherwise stay until the next writer.
    fs.rmSync(temp, {force: true});
    throw new FileNotSavedError(file, error);
  }
  syncDirectory(path.dirname(file));
}

export function syncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Removes `FILE.tmp-PID` left by writers of this file whose process is gone. */
function clearAbandonedTemporaries(file: string): void {
  const dir = path.dirname(file);
  const prefix = `${path.basename(file)}${TEMP}`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid)) fs.rmSync(path.join(dir, name), {force: true});
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
