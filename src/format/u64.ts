// Unsigned 64-bit little-endian fields written from JS numbers. Every value marklog
// stores is at most 2^53 − 1 (readers refuse larger ones), so two 32-bit stores do
// what a BigInt conversion would, several times faster on the write path.

const TWO_32 = 2 ** 32;

export function writeU64(target: Buffer, value: number, at: number): void {
  target.writeUInt32LE(value % TWO_32, at);
  target.writeUInt32LE(Math.floor(value / TWO_32), at + 4);
}
