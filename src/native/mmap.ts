// @riaskov/mmap-io is CommonJS whose typings do not resolve under NodeNext; load it
// as what it is and describe the part marklog uses.
import {createRequire} from 'node:module';

export interface Mmap {
  map(size: number, protection: number, flags: number, fd: number, offset?: number, advise?: number): Buffer;
  sync(buffer: Buffer, offset: number, size: number, blocking?: boolean, invalidate?: boolean): void;
  sync(buffer: Buffer, blocking: boolean, invalidate?: boolean): void;
  advise(buffer: Buffer, advise: number): void;
  readonly PROT_READ: number;
  readonly PROT_WRITE: number;
  readonly MAP_SHARED: number;
  readonly MADV_SEQUENTIAL: number;
  readonly MADV_RANDOM: number;
  readonly PAGESIZE: number;
}

const require = createRequire(import.meta.url);
export const mmap: Mmap = require('@riaskov/mmap-io');
