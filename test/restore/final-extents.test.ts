// Last writer wins (src/restore/final-extents.ts) against the definition: a byte map
// written piece by piece in log order. Random batches, many overlaps, zero pieces.
import test from 'ava';
import {ExtentColumns, resolveLastWriter} from '../../src/restore/final-extents.js';
import {Rng} from '../helpers/fuzz.js';

test('the extents left by resolveLastWriter are disjoint, ascending, and give every byte its last writer', t => {
  const seed = Number(process.env.MARKLOG_TEST_SEED ?? Date.now() % 1_000_000);
  const rng = new Rng(seed);
  for (let round = 0; round < 300; round++) {
    const size = 1 + rng.int(4096);
    const count = rng.int(200);
    const pieces = new ExtentColumns(4);
    const owner = new Int32Array(size).fill(-1);
    for (let i = 0; i < count; i++) {
      const start = rng.int(size);
      const end = Math.min(size, start + 1 + rng.int(rng.int(2) === 0 ? 16 : size));
      const zero = rng.int(8) === 0;
      pieces.add(start, end, zero ? -1 : 7, zero ? 0 : 100_000 * i, i, 3);
      owner.fill(i, start, end);
    }
    const out = new ExtentColumns(4);
    resolveLastWriter(pieces, out);
    const seen = new Int32Array(size).fill(-1);
    let previousEnd = -1;
    for (let e = 0; e < out.count; e++) {
      const [start, end, write] = [out.start[e], out.end[e], out.write[e]];
      if (!(start >= previousEnd && start < end)) return t.fail(`extent ${e} [${start}, ${end}) after ${previousEnd} (seed ${seed}, round ${round})`);
      previousEnd = end;
      const piece = pieces.write.indexOf(write);
      // Where the extent's bytes come from: the same offset into its piece's source.
      const expectedSource = pieces.logLdev[piece] < 0 ? 0 : pieces.source[piece] + (start - pieces.start[piece]);
      if (out.source[e] !== expectedSource || out.ldev[e] !== 3) return t.fail(`extent ${e} source ${out.source[e]}, expected ${expectedSource} (seed ${seed}, round ${round})`);
      seen.fill(write, start, end);
    }
    if (!seen.every((w, i) => w === owner[i])) return t.fail(`bytes differ from the byte map (seed ${seed}, round ${round})`);
  }
  t.pass();
});

test('order sorts by the first key, then the second, then the index', t => {
  const columns = new ExtentColumns(2);
  for (const [logLdev, source] of [[2, 5], [1, 9], [2, 1], [1, 9], [0, 3]]) columns.add(0, 1, logLdev, source, 0, 0);
  t.deepEqual([...columns.order(columns.logLdev, columns.source)], [4, 1, 3, 2, 0]);
  t.deepEqual([...columns.order(columns.logLdev)], [4, 1, 3, 0, 2]);
});
