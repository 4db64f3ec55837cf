// Last writer wins, for a batch of pieces of write records in log order: which
// piece supplies each byte of the range they cover. Everything lives in typed
// arrays reused from batch to batch, so planning a restore of a million records
// creates no object per record (objects that live through a batch are promoted by
// the collector and raised a restore's peak RSS by ~100 MiB).

/** Columns of extents: [start, end) of target `ldev` comes from `source` in log volume `logLdev`, of write `write`. */
export class ExtentColumns {
  count = 0;
  start: Float64Array;
  end: Float64Array;
  logLdev: Float64Array;
  source: Float64Array;
  write: Float64Array;
  ldev: Float64Array;

  constructor(capacity: number) {
    [this.start, this.end, this.logLdev, this.source, this.write, this.ldev] = [0, 0, 0, 0, 0, 0].map(() => new Float64Array(capacity));
  }

  get capacity(): number {
    return this.start.length;
  }

  add(start: number, end: number, logLdev: number, source: number, write: number, ldev: number): void {
    if (this.count === this.capacity) this.grow();
    const i = this.count++;
    this.start[i] = start;
    this.end[i] = end;
    this.logLdev[i] = logLdev;
    this.source[i] = source;
    this.write[i] = write;
    this.ldev[i] = ldev;
  }

  clear(): void {
    this.count = 0;
  }

  /**
   * Indexes 0…count−1 ordered by `first`, then `second`, then index. A heapsort in
   * place: a sort with a comparator would copy the indexes into the collector's
   * heap for every batch, and those copies raised the peak RSS.
   */
  order(first: Float64Array, second?: Float64Array): Uint32Array {
    const order = new Uint32Array(this.count);
    for (let i = 0; i < order.length; i++) order[i] = i;
    const before = (a: number, b: number) => first[a] < first[b] || (first[a] === first[b] && (second !== undefined && second[a] !== second[b] ? second[a] < second[b] : a < b));
    const sift = (root: number, end: number) => {
      for (let child = 2 * root + 1; child < end; root = child, child = 2 * root + 1) {
        if (child + 1 < end && before(order[child], order[child + 1])) child++;
        if (!before(order[root], order[child])) return;
        [order[root], order[child]] = [order[child], order[root]];
      }
    };
    for (let i = (order.length >> 1) - 1; i >= 0; i--) sift(i, order.length);
    for (let end = order.length - 1; end > 0; end--) {
      [order[0], order[end]] = [order[end], order[0]];
      sift(0, end);
    }
    return order;
  }

  private grow(): void {
    const size = Math.max(16, this.capacity * 2);
    for (const column of ['start', 'end', 'logLdev', 'source', 'write', 'ldev'] as const) {
      const wider = new Float64Array(size);
      wider.set(this[column]);
      this[column] = wider;
    }
  }
}

/**
 * Resolves `pieces` (added in log order, so a later index is a later writer) into
 * the disjoint extents that survive, in ascending target order, appended to `out`.
 * A sweep over the pieces sorted by start, with a max-heap of the pieces covering
 * the sweep position: the highest index on it is the byte's last writer.
 */
export function resolveLastWriter(pieces: ExtentColumns, out: ExtentColumns): void {
  const {start, end} = pieces;
  const byStart = pieces.order(start);
  const heap = new MaxHeap(pieces.count);
  let next = 0;
  let at = byStart.length > 0 ? start[byStart[0]] : 0;
  while (next < byStart.length || heap.size > 0) {
    while (next < byStart.length && start[byStart[next]] <= at) heap.push(byStart[next++]);
    while (heap.size > 0 && end[heap.top()] <= at) heap.pop();
    if (heap.size === 0) {
      if (next === byStart.length) break;
      at = start[byStart[next]];
      continue;
    }
    const winner = heap.top();
    // The winner holds until it ends or another piece starts (which may be a later writer).
    const until = next < byStart.length ? Math.min(end[winner], start[byStart[next]]) : end[winner];
    const source = pieces.source[winner] + (pieces.logLdev[winner] < 0 ? 0 : at - start[winner]);
    const last = out.count - 1;
    if (last >= 0 && out.write[last] === pieces.write[winner] && out.end[last] === at) out.end[last] = until;
    else out.add(at, until, pieces.logLdev[winner], source, pieces.write[winner], pieces.ldev[winner]);
    at = until;
  }
}

/** A binary max-heap of indexes in a typed array. */
class MaxHeap {
  private readonly items: Uint32Array;
  size = 0;

  constructor(capacity: number) {
    this.items = new Uint32Array(Math.max(1, capacity));
  }

  top(): number {
    return this.items[0];
  }

  push(value: number): void {
    const items = this.items;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent] >= value) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = value;
  }

  pop(): void {
    const items = this.items;
    const value = items[--this.size];
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && items[child + 1] > items[child]) child++;
      if (items[child] <= value) break;
      items[i] = items[child];
      i = child;
    }
    items[i] = value;
  }
}
