// The sha256 of a whole file, read in pieces (images can be far larger than memory).
import crypto from 'node:crypto';
import fs from 'node:fs';

const PIECE = 8 * 1024 * 1024;

export function sha256File(file: string): string {
  const hash = crypto.createHash('sha256');
  const piece = Buffer.allocUnsafe(PIECE);
  const fd = fs.openSync(file, 'r');
  try {
    for (let n; (n = fs.readSync(fd, piece, 0, piece.length, null)) > 0;) hash.update(piece.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}
