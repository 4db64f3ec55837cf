// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as in iSCSI (RFC 3720)
// and ext4. Unmasked: the value stored is exactly what this returns. Computed by
// the project's addon (native/fsx.c): the SSE4.2 instruction where the processor
// has it (three interleaved chains on long inputs, ≈ 30 GB/s here), slicing-by-8
// tables otherwise. Checksums are most of the cost of writing
// and reading the log, so they are not done in JavaScript.
import {fsx} from '../native/fsx.js';

/** The CRC-32C of `data`; pass a previous result as `seed` to continue it over more bytes. */
export function crc32c(data: Uint8Array, seed = 0): number {
  return fsx.crc32c(data, seed);
}
