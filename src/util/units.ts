import {InvalidArgumentError} from '../errors.js';

// Both conventions people type: a bare letter or IEC "KiB…TiB" is a power of 1024
// (as dd and qemu-img read "64M"); SI "kB…TB" is a power of 1000, as disk vendors
// and df -H mean it. "100MB" must not silently become 100 MiB.
const MULTIPLIERS: Record<string, number> = {
  '': 1, B: 1,
  K: 1024, KIB: 1024, KB: 1000,
  M: 1024 ** 2, MIB: 1024 ** 2, MB: 1000 ** 2,
  G: 1024 ** 3, GIB: 1024 ** 3, GB: 1000 ** 3,
  T: 1024 ** 4, TIB: 1024 ** 4, TB: 1000 ** 4,
};

export const SECTOR = 512;
/** The largest capacity marklog accepts: offsets stay exact in a JS number. */
export const MAX_CAPACITY = 2 ** 50;

/** "64M", "1G", "4KiB" → powers of 1024; "100MB", "1GB" → powers of 1000; "512" → bytes. */
export function parseSize(text: string, what = 'size'): number {
  const match = /^\s*(\d+)\s*([a-zA-Z]*)\s*$/.exec(text);
  const multiplier = match ? MULTIPLIERS[match[2].toUpperCase()] : undefined;
  if (!match || multiplier === undefined) {
    throw new InvalidArgumentError(`${what} "${text}" is not a size (examples: 512, 64K, 64M or 64MiB, 1G, 100MB = 100,000,000 bytes)`);
  }
  const bytes = Number(match[1]) * multiplier;
  if (!Number.isSafeInteger(bytes)) throw new InvalidArgumentError(`${what} "${text}" is too large`);
  return bytes;
}

export function parseCapacity(text: string): number {
  return checkCapacity(parseSize(text, 'capacity'), text);
}

/** A volume capacity the tables will accept: whole sectors, at most 1 PiB. */
export function checkCapacity(bytes: number, text: string | number = bytes): number {
  if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes % SECTOR !== 0) {
    const si = typeof text === 'string' && /\d\s*[kKmMgGtT][bB]\s*$/.test(text);
    throw new InvalidArgumentError(`capacity "${text}" must be a positive multiple of ${SECTOR} bytes`,
      si ? `${text} is ${bytes.toLocaleString('en-US')} bytes (SI units are powers of 1000); for powers of 1024 write ${text.replace(/[bB]\s*$/, 'iB')} or ${text.replace(/[bB]\s*$/, '')}` : undefined);
  }
  if (bytes > MAX_CAPACITY) throw new InvalidArgumentError(`capacity "${text}" exceeds the 1 PiB limit`);
  return bytes;
}

/** A whole number ≥ 0 given on the command line (LDEV, pair, offset, length). */
export function parseCount(text: string | number, what: string): number {
  const value = typeof text === 'number' ? text : /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${what} "${text}" must be a whole number ≥ 0`);
  }
  return value;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}
