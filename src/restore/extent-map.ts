// Where each byte of a volume comes from at a point of the log: the last write record
// that covered it (last writer wins), kept up to date as the log is read in order and
// asked about any range at any moment (the dm-log-writes export widens writes to whole
// sectors with it). A restore needs the final state only, and plans it in bounded
// memory with final-extents.ts instead. Extents live in 1 MiB buckets, so an insert
// touches a short list.

export interface Extent {
  start: number;
  end: number;
  /** The log volume and byte offset holding the data for `start`. */
  logLdev: number;
  source: number;
  /** The write record it comes from: its index in the scan's write list. */
  write: number;
}

const BUCKET = 1024 * 1024;

export class ExtentMap {
  private readonly buckets = new Map<number, Extent[]>();

  /** Records that [start, end) now comes from `source` in log volume `logLdev`, written by write `write`. */
  put(start: number, end: number, logLdev: number, source: number, write: number): void {
    for (let bucket = Math.floor(start / BUCKET); bucket * BUCKET < end; bucket++) {
      const from = Math.max(start, bucket * BUCKET);
      const to = Math.min(end, (bucket + 1) * BUCKET);
      let list = this.buckets.get(bucket);
      if (!list) this.buckets.set(bucket, (list = []));
      insert(list, {start: from, end: to, logLdev, source: source + (from - start), write});
    }
  }

  /** The extents in ascending target order. */
  *extents(): Generator<Extent> {
    for (const bucket of [...this.buckets.keys()].sort((a, b) => a - b)) yield* this.buckets.get(bucket)!;
  }

  /** The extents over [start, end), clipped to it, in ascending order; bytes outside them are the base's. */
  covering(start: number, end: number): Extent[] {
    const out: Extent[] = [];
    for (let bucket = Math.floor(start / BUCKET); bucket * BUCKET < end; bucket++) {
      for (const e of this.buckets.get(bucket) ?? []) {
        if (e.end <= start || e.start >= end) continue;
        const from = Math.max(e.start, start);
        out.push({...e, start: from, end: Math.min(e.end, end), source: e.source + (from - e.start)});
      }
    }
    return out;
  }

  get bytes(): number {
    let total = 0;
    for (const list of this.buckets.values()) for (const e of list) total += e.end - e.start;
    return total;
  }
}

/** Inserts into a sorted list of disjoint extents, cutting away what the new one covers. */
function insert(list: Extent[], extent: Extent): void {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (list[mid].end <= extent.start) low = mid + 1;
    else high = mid;
  }
  let last = low;
  while (last < list.length && list[last].start < extent.end) last++;
  const replaced: Extent[] = [];
  const first = list[low];
  if (low < last && first.start < extent.start) replaced.push({...first, end: extent.start});
  replaced.push(extent);
  const tail = list[last - 1];
  if (low < last && tail.end > extent.end) replaced.push({...tail, start: extent.end, source: tail.source + (extent.end - tail.start)});
  list.splice(low, last - low, ...replaced);
}
