// The Linux dm-log-writes target's log (docs/INTEROP.md §2), which xfstests'
// replay-log reads and QEMU's blklogwrites driver writes. All integers little-endian.
// A log is a super block in the first sector, then entries one after the other, each
// one sector of entry header followed, for a write, by its data in whole sectors.
// Sector numbers and counts are in the log's own sector size (512 or 4096).

export const DM_LOG_MAGIC = 0x6a736677736872n;
export const DM_LOG_VERSION = 1n;
export const DM_SUPER_SIZE = 28;
export const DM_ENTRY_SIZE = 32;

export const DmFlag = {flush: 1, fua: 2, discard: 4, mark: 8, metadata: 16} as const;

export interface DmSuper {
  nrEntries: number;
  sectorSize: number;
}

export interface DmEntryHeader {
  /** First sector written (or discarded), in the log's sector size. */
  sector: number;
  nrSectors: number;
  flags: number;
  /** For a mark, the length of its name, which follows the header in the same sector. */
  dataLen: number;
}

/** The super block as its sector: magic, version, entry count, sector size, zeros. */
export function encodeSuper(value: DmSuper): Buffer {
  const out = Buffer.alloc(value.sectorSize);
  out.writeBigUInt64LE(DM_LOG_MAGIC, 0);
  out.writeBigUInt64LE(DM_LOG_VERSION, 8);
  out.writeBigUInt64LE(BigInt(value.nrEntries), 16);
  out.writeUInt32LE(value.sectorSize, 24);
  return out;
}

export function decodeSuper(sector: Buffer): DmSuper | {reason: string} {
  if (sector.length < DM_SUPER_SIZE) return {reason: 'shorter than a super block'};
  if (sector.readBigUInt64LE(0) !== DM_LOG_MAGIC) return {reason: 'not a dm-log-writes log (bad magic)'};
  const version = sector.readBigUInt64LE(8);
  if (version !== DM_LOG_VERSION) return {reason: `dm-log-writes version ${version} (marklog reads version 1)`};
  const sectorSize = sector.readUInt32LE(24);
  if (sectorSize < 512 || sectorSize > 65536 || (sectorSize & (sectorSize - 1)) !== 0) return {reason: `sector size ${sectorSize} is not a power of two from 512 to 65536`};
  const nrEntries = sector.readBigUInt64LE(16);
  if (nrEntries > BigInt(Number.MAX_SAFE_INTEGER)) return {reason: 'entry count out of range'};
  return {nrEntries: Number(nrEntries), sectorSize};
}

/** An entry header as its sector; a mark's name follows the 32 bytes, then zeros. */
export function encodeEntry(entry: DmEntryHeader, sectorSize: number, name?: Buffer): Buffer {
  const out = Buffer.alloc(sectorSize);
  out.writeBigUInt64LE(BigInt(entry.sector), 0);
  out.writeBigUInt64LE(BigInt(entry.nrSectors), 8);
  out.writeBigUInt64LE(BigInt(entry.flags), 16);
  out.writeBigUInt64LE(BigInt(entry.dataLen), 24);
  if (name) name.copy(out, DM_ENTRY_SIZE);
  return out;
}

export function decodeEntry(sector: Buffer): DmEntryHeader | {reason: string} {
  if (sector.length < DM_ENTRY_SIZE) return {reason: 'truncated entry'};
  const fields = [0, 8, 16, 24].map(at => sector.readBigUInt64LE(at));
  if (fields.some(v => v > BigInt(Number.MAX_SAFE_INTEGER))) return {reason: 'entry field out of range'};
  const [sector_, nrSectors, flags, dataLen] = fields.map(Number);
  return {sector: sector_, nrSectors, flags, dataLen};
}

/** The bytes an entry occupies in the log: its header sector, and a write's data sectors. */
export function entrySpan(entry: DmEntryHeader, sectorSize: number): number {
  const carriesData = (entry.flags & (DmFlag.discard | DmFlag.mark)) === 0;
  return sectorSize * (1 + (carriesData ? entry.nrSectors : 0));
}
