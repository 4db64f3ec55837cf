// The project's own addon (native/fsx.c), built by `npm install`. A missing build
// is an install error: there is deliberately no pure-JS fallback for locking.
import {createRequire} from 'node:module';

export interface Fsx {
  /** flock(LOCK_NB): true when taken, false when another open file holds it. */
  tryLock(fd: number, exclusive: boolean): boolean;
  unlock(fd: number): void;
  /**
   * A byte-range lock on [offset, offset+length) owned by fd's open file description
   * (fcntl F_OFD_SETLK, without waiting): true when taken, false when another open
   * file description holds a conflicting lock there (even one opened by this process).
   * The kernel drops it when the last descriptor of that description closes, as when
   * its process dies. Shared needs fd open for reading, exclusive for writing.
   * offset >= 0, length > 0 (RangeError otherwise); other failures throw with errno.
   */
  lockRange(fd: number, offset: number, length: number, exclusive: boolean): boolean;
  /** Drops fd's open file description's locks on exactly [offset, offset+length). */
  unlockRange(fd: number, offset: number, length: number): void;
  /**
   * fcntl F_OFD_GETLK for an exclusive lock on [offset, offset+length): true when a
   * lock (shared or exclusive) of another open file description covers some byte of
   * it; fd's own description's locks never count.
   */
  rangeHeldElsewhere(fd: number, offset: number, length: number): boolean;
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
