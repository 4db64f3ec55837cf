// Unsigned 64-bit little-endian fields written from JS numbers. Every value marklog
// stores is at most 2^53 − 1 (readers refuse larger ones), so two 32-bit stores do
// what a BigInt conversion would; through a DataView, several times faster than
// either on the write path (one header update writes twenty of them).

const TWO_32 = 2 ** 32;

/** A view for writeU64 over exactly the bytes of `target`. */
export function viewOf(target: Uint8Array): DataView {
  return new DataView(target.buffer, target.byteOffset, target.byteLength);
}

export function writeU64(view: DataView, value: number, at: number): void {
  view.setUint32(at, value % TWO_32, true);
  view.setUint32(at + 4, Math.floor(value / TWO_32), true);
}

/** The u64 at `at`, or undefined when it is above 2^53 − 1 (a reader refuses it). */
export function readU64(source: Buffer, at: number): number | undefined {
  const high = source.readUInt32LE(at + 4);
  if (high > 0x1fffff) return undefined;
  return high * TWO_32 + source.readUInt32LE(at);
}
