// Which file an image is, whatever name reaches it: a symlink, a hard link or another
// path to one file are one image. Two volumes on one file would be one copy of the data
// passed off as two (an M-VOL and "its" R-VOL), so marklog compares these, not paths.
import fs from 'node:fs';

export function imageIdentity(file: string): string | null {
  try {
    const stat = fs.statSync(file, {bigint: true});
    return `${stat.dev}:${stat.ino}`;
  } catch {
    return null;
  }
}
