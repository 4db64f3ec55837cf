// @riaskov/mmap-io maps whole pair bitmaps (offset 0). It is CommonJS whose typings
// do not resolve under NodeNext; load it as what it is, only when a bitmap is
// first opened (loading it costs tens of milliseconds a command may not need).
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
let loaded: Mmap | undefined;

/**
 * mmap-io finds its binary through node-pre-gyp, which reads process.argv and
 * takes a `--dir X` meant for marklog as the place to look. Load it with an argv
 * that says nothing.
 */
export function mmap(): Mmap {
  if (loaded) return loaded;
  const argv = process.argv;
  process.argv = argv.slice(0, 2);
  try {
    loaded = require('@riaskov/mmap-io') as Mmap;
  } finally {
    process.argv = argv;
  }
  return loaded;
}
