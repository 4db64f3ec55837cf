// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as in iSCSI (RFC 3720)
// and ext4. Unmasked: the value stored is exactly what this returns.
const TABLE = (() => {
  const table = new Uint32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  // Slicing-by-8 tables: TABLE[k*256 + n] advances a byte through k further zero bytes.
  for (let n = 0; n < 256; n++) {
    let c = table[n];
    for (let k = 1; k < 8; k++) {
      c = table[c & 0xff] ^ (c >>> 8);
      table[k * 256 + n] = c >>> 0;
    }
  }
  return table;
})();

export function crc32c(data: Uint8Array, seed = 0): number {
  let crc = ~seed >>> 0;
  let i = 0;
  const end8 = data.length - (data.length % 8);
  while (i < end8) {
    const a = (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)) ^ crc;
    crc = TABLE[7 * 256 + (a & 0xff)] ^ TABLE[6 * 256 + ((a >>> 8) & 0xff)]
      ^ TABLE[5 * 256 + ((a >>> 16) & 0xff)] ^ TABLE[4 * 256 + (a >>> 24)]
      ^ TABLE[3 * 256 + data[i + 4]] ^ TABLE[2 * 256 + data[i + 5]]
      ^ TABLE[256 + data[i + 6]] ^ TABLE[data[i + 7]];
    i += 8;
  }
  while (i < data.length) crc = TABLE[(crc ^ data[i++]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}
