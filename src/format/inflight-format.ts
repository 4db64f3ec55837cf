// The activity log of a site (file `inflight`): docs/FORMAT.md §5. Slots of one
// in-flight write record each; slot 0 alone is the single record of earlier releases.
import {crc32c} from './crc32c.js';
import {viewOf, writeU64} from './u64.js';

export const INFLIGHT_MAGIC = 0x46494c4d; // "MLIF" as bytes 4d 4c 49 46
export const INFLIGHT_SIZE = 32;
/** Writes one hold of the site lock may have in flight at once: a batch longer than this goes in parts. */
export const ACTIVITY_SLOTS = 64;

export const InflightRecord = {
  magic: 0, // u32
  ldev: 4, // u32
  offset: 8, // u64
  length: 16, // u64; 0 when no write is in flight
  crc: 24, // u32 CRC-32C of bytes 0..23
  reserved: 28, // u32 zero
} as const;

export interface Inflight {
  ldev: number;
  offset: number;
  length: number;
}

export function encodeInflight(write: Inflight | null, out: Buffer = Buffer.alloc(INFLIGHT_SIZE)): Buffer {
  out.fill(0, 0, INFLIGHT_SIZE);
  out.writeUInt32LE(INFLIGHT_MAGIC, InflightRecord.magic);
  if (write) {
    out.writeUInt32LE(write.ldev, InflightRecord.ldev);
    const view = viewOf(out);
    writeU64(view, write.offset, InflightRecord.offset);
    writeU64(view, write.length, InflightRecord.length);
  }
  out.writeUInt32LE(crc32c(out.subarray(0, InflightRecord.crc)), InflightRecord.crc);
  return out;
}

/** null when nothing is in flight; a reason when the record cannot be trusted. */
export function decodeInflight(source: Buffer): Inflight | null | {reason: string} {
  // All zeros: a slot the file was extended with and nothing has used yet (or an empty file).
  if (source.subarray(0, INFLIGHT_SIZE).every(b => b === 0)) return null;
  if (source.length < INFLIGHT_SIZE) return {reason: 'truncated'};
  if (source.readUInt32LE(InflightRecord.magic) !== INFLIGHT_MAGIC) return {reason: 'bad magic'};
  if (crc32c(source.subarray(0, InflightRecord.crc)) !== source.readUInt32LE(InflightRecord.crc)) return {reason: 'checksum mismatch'};
  const length = source.readBigUInt64LE(InflightRecord.length);
  const offset = source.readBigUInt64LE(InflightRecord.offset);
  if (length === 0n) return null;
  if (length > BigInt(Number.MAX_SAFE_INTEGER) || offset > BigInt(Number.MAX_SAFE_INTEGER)) return {reason: 'out of range'};
  return {ldev: source.readUInt32LE(InflightRecord.ldev), offset: Number(offset), length: Number(length)};
}
