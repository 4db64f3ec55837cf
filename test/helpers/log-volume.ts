// A small reader of a log volume image, written from the record layout alone (so
// it does not share code with marklog's own reader), and the damage a test does to
// one: flip one byte. Layout: two 4096-byte header slots; the current one is the
// slot whose u64 sequence (at 200) is higher; its u64 at 48 is the offset of the
// first live record and its u64 at 56 the offset just past the last one (this
// reader expects a log that has not wrapped); then, from 8192, records, each a 32-byte header (mark flag u8, type u8, magic u16, reserved
// u32, log ID u64, timer u64, data length u32, CRC u32) and its data area, padded to
// a multiple of 8. A write's data area starts with target LDEV u32, reserved u32,
// address u64, then the written bytes. Format 2 (the header's u32 version at 8 is 2):
// 48-byte record headers, and a write's data area is target LDEV u32, reserved u32,
// address u64, length u64, one u32 CRC per block (the header's u32 block size at
// 216), then the written bytes.
import fs from 'node:fs';

const START_AT = 48;
const TAIL_AT = 56;
const SEQUENCE_AT = 200;
const SLOT = 4096;
const RECORD_HEADER = 32;
const WRITE_DATA_HEADER = 16;

export interface RecordOnDisk {
  /** Byte offset of the record in the log volume. */
  offset: number;
  kind: 'write' | 'mark';
  logId: number;
  dataLength: number;
  /** For a write: target LDEV, its address, and where its written bytes sit in the log volume. */
  ldev?: number;
  address?: number;
  dataAt?: number;
}

export function logRecords(file: string): RecordOnDisk[] {
  const image = fs.readFileSync(file);
  const header = image.readBigUInt64LE(SEQUENCE_AT) > image.readBigUInt64LE(SLOT + SEQUENCE_AT) ? 0 : SLOT;
  const start = Number(image.readBigUInt64LE(header + START_AT));
  const tail = Number(image.readBigUInt64LE(header + TAIL_AT));
  const version = image.readUInt32LE(header + 8);
  const blockSize = version === 2 ? image.readUInt32LE(header + 216) : 0;
  const recordHeader = version === 2 ? 48 : RECORD_HEADER;
  const out: RecordOnDisk[] = [];
  for (let offset = start; offset < tail;) {
    const kind = image[offset] === 1 ? 'mark' : 'write';
    const logId = Number(image.readBigUInt64LE(offset + 8));
    const dataLength = image.readUInt32LE(offset + 24);
    const record: RecordOnDisk = {offset, kind, logId, dataLength};
    if (kind === 'write') {
      const data = offset + recordHeader;
      record.ldev = image.readUInt32LE(data);
      record.address = Number(image.readBigUInt64LE(data + 8));
      record.dataAt = version === 2
        ? data + 24 + 4 * Math.ceil(Number(image.readBigUInt64LE(data + 16)) / blockSize)
        : data + WRITE_DATA_HEADER;
    }
    out.push(record);
    offset += Math.ceil((recordHeader + dataLength) / 8) * 8;
  }
  return out;
}

/** Inverts every bit of one byte of a file, in place. */
export function flipByte(file: string, offset: number): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const byte = Buffer.alloc(1);
    fs.readSync(fd, byte, 0, 1, offset);
    byte[0] ^= 0xff;
    fs.writeSync(fd, byte, 0, 1, offset);
  } finally {
    fs.closeSync(fd);
  }
}
