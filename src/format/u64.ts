// Unsigned 64-bit little-endian fields as JS numbers. Every value marklog stores is at
// most 2^53 − 1 (readers refuse larger ones), so two 32-bit stores or reads do what a
// BigInt conversion would, several times faster: a log header holds twenty of them,
// and every wire frame and log record two or more.

const TWO_32 = 2 ** 32;

/** A view for writeU64 over exactly the bytes of `target`. */
export function viewOf(target: Uint8Array): DataView {
  return new DataView(target.buffer, target.byteOffset, target.byteLength);
}

export function writeU64(view: DataView, value: number, at: number): void {
  view.setUint32(at, value % TWO_32, true);
  view.setUint32(at + 4, Math.floor(value / TWO_32), true);
}

/** A u64 field as a number, or undefined past 2^53 − 1 (FORMAT.md §4.1): two 32-bit reads, no BigInt. */
export function safeU64(source: Buffer, at: number): number | undefined {
  const high = source.readUInt32LE(at + 4);
  if (high > 0x1fffff) return undefined;
  return high * TWO_32 + source.readUInt32LE(at);
}
