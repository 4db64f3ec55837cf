// The writes a crash driver makes, reproducible from (seed, index) alone so the
// test can rebuild exactly what was acknowledged.
export function blockFor(seed: number, index: number, capacity: number): {offset: number; data: Buffer} {
  let state = (seed * 2654435761 + index * 40503) >>> 0;
  const next = () => {
    state = (Math.imul(state ^ (state >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
    return state / 4294967296;
  };
  const length = 512 + Math.floor(next() * 48 * 1024);
  const offset = Math.floor(next() * (capacity - length));
  const data = Buffer.alloc(length, Math.floor(next() * 256));
  data.writeUInt32LE(seed, 0);
  data.writeUInt32LE(index, 4);
  return {offset, data};
}
