// The project's own addon (native/fsx.c), built by `npm install`. A missing build
// is an install error: there is deliberately no pure-JS fallback for locking.
import {createRequire} from 'node:module';

export interface Fsx {
  /** flock(LOCK_NB): true when taken, false when another open file holds it. */
  tryLock(fd: number, exclusive: boolean): boolean;
  unlock(fd: number): void;
  /** lseek SEEK_DATA (wantData) or SEEK_HOLE; -1 when there is none at or after offset. */
  seek(fd: number, offset: number, wantData: boolean): number;
  /** Deallocates a range, keeping the size; false where the file system cannot. */
  punchHole(fd: number, offset: number, length: number): boolean;
  /** copy_file_range; 0 when the kernel cannot copy between these files. */
  copyRange(fdIn: number, offsetIn: number, fdOut: number, offsetOut: number, length: number): number;
  /** CRC-32C of the bytes, continuing from `seed` (0 to start). */
  crc32c(data: Uint8Array, seed: number): number;
  /**
   * A read-write MAP_SHARED mapping of [offset, offset+length) of the file, as a
   * Buffer (unmapped when collected). The range must be inside the file and
   * allocated: a store into a hole on a full file system is SIGBUS.
   */
  mapShared(fd: number, offset: number, length: number): Buffer;
  /** msync(MS_SYNC) of a whole mapping from mapShared. */
  syncShared(mapping: Buffer): void;
}

const require = createRequire(import.meta.url);
export const fsx: Fsx = require('../../../build/Release/fsx.node');
