// Pair bitmap file layout: docs/FORMAT.md §2. The only place these numbers live.
import {crc32c} from './crc32c.js';

export const BITMAP_MAGIC = Buffer.from('MLBITMAP', 'ascii');
export const BITMAP_VERSION = 1;
export const BITMAP_HEADER_SIZE = 64;

/** Byte offsets inside the bitmap header (little-endian). */
export const BitmapHeader = {
  magic: 0, // 8 bytes "MLBITMAP"
  version: 8, // u32
  chunkSize: 12, // u32, bytes per bit
  capacity: 16, // u64, bytes of the M-VOL
  chunkCount: 24, // u64
  copyPointer: 32, // u64, first chunk the copy has not yet passed; outside the CRC
  reserved: 40, // 20 bytes of zero
  crc: 60, // u32 CRC-32C of bytes 0..31 then 40..59: every byte but the pointer's and its own
} as const;

/**
 * The CRC covers the fields that never change. The copy pointer moves with single
 * aligned 8-byte stores, so neither a reader nor a crash can see it half written.
 */
export function bitmapHeaderCrc(header: Buffer): number {
  return crc32c(header.subarray(BitmapHeader.reserved, BitmapHeader.crc), crc32c(header.subarray(0, BitmapHeader.copyPointer)));
}

export interface BitmapGeometry {
  chunkSize: number;
  capacity: number;
  chunkCount: number;
}

export function chunkCountFor(capacity: number, chunkSize: number): number {
  return Math.ceil(capacity / chunkSize);
}

export function bitmapFileSize(chunkCount: number): number {
  return BITMAP_HEADER_SIZE + Math.ceil(chunkCount / 8);
}

export interface BitmapHeaderFields extends BitmapGeometry {
  copyPointer: number;
}

export function encodeBitmapHeader(target: Buffer, fields: BitmapHeaderFields): void {
  target.fill(0, 0, BITMAP_HEADER_SIZE);
  BITMAP_MAGIC.copy(target, BitmapHeader.magic);
  target.writeUInt32LE(BITMAP_VERSION, BitmapHeader.version);
  target.writeUInt32LE(fields.chunkSize, BitmapHeader.chunkSize);
  target.writeBigUInt64LE(BigInt(fields.capacity), BitmapHeader.capacity);
  target.writeBigUInt64LE(BigInt(fields.chunkCount), BitmapHeader.chunkCount);
  target.writeBigUInt64LE(BigInt(fields.copyPointer), BitmapHeader.copyPointer);
  target.writeUInt32LE(bitmapHeaderCrc(target), BitmapHeader.crc);
}

/** Decodes a header; the reason names the first field that is wrong. */
export function decodeBitmapHeader(source: Buffer): {fields: BitmapHeaderFields} | {reason: string} {
  if (source.length < BITMAP_HEADER_SIZE) return {reason: 'file shorter than its header'};
  if (!source.subarray(0, 8).equals(BITMAP_MAGIC)) return {reason: 'bad magic'};
  if (bitmapHeaderCrc(source) !== source.readUInt32LE(BitmapHeader.crc)) return {reason: 'header checksum mismatch'};
  const version = source.readUInt32LE(BitmapHeader.version);
  if (version !== BITMAP_VERSION) return {reason: `unknown version ${version}`};
  const chunkSize = source.readUInt32LE(BitmapHeader.chunkSize);
  const limit = BigInt(Number.MAX_SAFE_INTEGER);
  const wide = [BitmapHeader.capacity, BitmapHeader.chunkCount, BitmapHeader.copyPointer].map(at => source.readBigUInt64LE(at));
  if (wide.some(value => value > limit)) return {reason: 'geometry does not add up'};
  const [capacity, chunkCount, copyPointer] = wide.map(Number);
  if (chunkSize === 0 || chunkCount !== chunkCountFor(capacity, chunkSize)) return {reason: 'geometry does not add up'};
  if (copyPointer > chunkCount) return {reason: 'copy pointer past the end'};
  if (source.length < bitmapFileSize(chunkCount)) return {reason: 'file shorter than its bits'};
  return {fields: {chunkSize, capacity, chunkCount, copyPointer}};
}
