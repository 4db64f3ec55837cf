// verify --deep: the M-VOL and the R-VOL of a pair in PAIR compared chunk by chunk.
// The pass over the volumes runs without the site lock, so hosts go on writing
// while it reads; a chunk can then differ only because a write landed between its
// two reads. Such a chunk is a suspect, not a finding: it is read again on both
// sides under the lock, and reported only if the pair is still in PAIR (same
// direction), its bitmap bit is clear, and the two sides still differ.
import {PairBitmap} from '../pair/bitmap.js';
import type {SiteLink} from '../site/link.js';
import type {Site} from '../site/site.js';
import type {PairRow, VolumeRow} from '../site/tables.js';
import type {Findings} from './finding.js';
import type {Inflight} from '../format/inflight-format.js';

/** Suspects confirmed per hold of the lock: hosts wait at most this many chunk reads. */
const CONFIRM_BATCH = 64;
/** Holds of the lock in which a chunk of a reverse pair may keep changing before it is let go. */
const REVERSE_ROUNDS = 5;

interface Difference {
  chunk: number;
  mvol: Buffer;
  rvol: Buffer;
}

/**
 * `inFlight`: writes the activity log names; a chunk they touch may lag the M-VOL until
 * the next write sends them on, which verify reports on its own (writes-in-flight).
 */
export async function checkPairContent(site: Site, pair: PairRow, mvol: VolumeRow, link: SiteLink, findings: Findings, inFlight: readonly Inflight[] = []): Promise<number> {
  const image = site.image(mvol);
  const step = pair.chunkSize;
  const suspects: number[] = [];
  let bytes = 0;
  for (let offset = 0; offset < mvol.capacity; offset += step) {
    const length = Math.min(step, mvol.capacity - offset);
    const lagging = inFlight.some(w => w.ldev === mvol.ldev && w.offset < offset + length && offset < w.offset + w.length);
    if (!lagging && !image.read(offset, length).equals(await link.readRvol(pair.rvol.ldev, offset, length))) suspects.push(offset / step);
    bytes += length;
  }
  const differing = pair.direction === 'reverse' ? await confirmReverse(site, pair, mvol, link, suspects) : (await confirm(site, pair, mvol, link, suspects)).map(d => d.chunk);
  if (differing.length > 0) {
    findings.error('pair-content', `pair ${pair.pair}`, `${differing.length} chunk(s) differ between M-VOL and R-VOL (first: chunk ${differing[0]})`,
      pair.direction === 'reverse'
        ? 'the R-VOL is the source: run `marklog pair resync --reverse` twice at the primary (swap back, then fail back again); if it repeats, check the storage under both images'
        : `\`marklog pair resync --site ${site.dir} --pair ${pair.pair} --full\` (copies every chunk again); if it repeats, check the storage under both images`);
  }
  return bytes;
}

/** The suspects that still differ under the lock, in batches so host writes get in between. */
async function confirm(site: Site, pair: PairRow, mvol: VolumeRow, link: SiteLink, suspects: number[]): Promise<Difference[]> {
  const out: Difference[] = [];
  for (let i = 0; i < suspects.length; i += CONFIRM_BATCH) {
    out.push(...await site.lock.runAsync(() => stillDiffering(site, pair, mvol, link, suspects.slice(i, i + CONFIRM_BATCH))));
  }
  return out;
}

/**
 * After failback the hosts write at the remote, under the remote's lock, and the
 * write reaches the M-VOL under ours only afterwards: one hold of our lock can see
 * the R-VOL a write ahead. A difference counts when two holds in a row see the same
 * bytes on both sides (no write touched the chunk in between); a chunk whose bytes
 * keep changing is being written, and is let go after REVERSE_ROUNDS holds.
 */
async function confirmReverse(site: Site, pair: PairRow, mvol: VolumeRow, link: SiteLink, suspects: number[]): Promise<number[]> {
  const confirmed: number[] = [];
  let pending = await confirm(site, pair, mvol, link, suspects);
  for (let round = 1; round < REVERSE_ROUNDS && pending.length > 0; round++) {
    const before = new Map(pending.map(d => [d.chunk, d]));
    const again = await confirm(site, pair, mvol, link, pending.map(d => d.chunk));
    pending = [];
    for (const d of again) {
      const last = before.get(d.chunk)!;
      if (last.mvol.equals(d.mvol) && last.rvol.equals(d.rvol)) confirmed.push(d.chunk);
      else pending.push(d);
    }
  }
  return confirmed.sort((a, b) => a - b);
}

/** Under the lock: the chunks that still differ, the pair still in PAIR and the chunks not marked dirty. */
async function stillDiffering(site: Site, pair: PairRow, mvol: VolumeRow, link: SiteLink, chunks: number[]): Promise<Difference[]> {
  const now = site.tables().pairs.find(p => p.pair === pair.pair);
  if (!now || now.state !== 'PAIR' || now.direction !== pair.direction) return [];
  const image = site.image(mvol);
  const bitmap = PairBitmap.open(site.path(now.bitmap));
  try {
    const out: Difference[] = [];
    for (const chunk of chunks) {
      // A dirty chunk of a PAIR pair is reported by the bitmap check (pair-dirty).
      if (bitmap.isSet(chunk)) continue;
      const offset = chunk * pair.chunkSize;
      const length = Math.min(pair.chunkSize, mvol.capacity - offset);
      const m = image.read(offset, length);
      const r = await link.readRvol(pair.rvol.ldev, offset, length);
      if (!m.equals(r)) out.push({chunk, mvol: m, rvol: r});
    }
    return out;
  } finally {
    bitmap.close();
  }
}
