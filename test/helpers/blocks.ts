// 4 KiB blocks of one byte, and whether an image holds some bytes at an offset: what
// the tests of writes in flight (pipelined runs, lock-free waits, given-up sessions)
// write through serve and look for on the M-VOL and the R-VOL.
import fs from 'node:fs';

export const BLOCK = 4096;

export function block(byte: number): Buffer {
  return Buffer.alloc(BLOCK, byte);
}

export function holds(image: string, offset: number, data: Buffer): boolean {
  const fd = fs.openSync(image, 'r');
  try {
    const read = Buffer.alloc(data.length);
    fs.readSync(fd, read, 0, read.length, offset);
    return read.equals(data);
  } finally {
    fs.closeSync(fd);
  }
}
