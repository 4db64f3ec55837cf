// Pair display: the pair table (Fig. 7) with what the bitmap says about each pair.
import {PairBitmap} from './bitmap.js';
import type {Site} from '../site/site.js';
import type {PairDirection, PairState} from '../site/tables.js';

export interface PairView {
  pair: number;
  state: PairState;
  /** forward: M-VOL → R-VOL; reverse (after failback): R-VOL → M-VOL. */
  direction: PairDirection;
  mvol: number;
  rvol: {site: string; ldev: number};
  chunkSize: number;
  chunks: number;
  dirtyChunks: number;
  dirtyBytes: number;
  /** Percent of the volume the copy pointer has passed (100 outside COPY). */
  copyProgress: number;
  created: string;
}

export function displayPairs(site: Site, only?: number): PairView[] {
  const tables = site.tables();
  const rows = only === undefined ? tables.pairs : [site.pair(tables, only)];
  return rows.map(pair => {
    const bitmap = PairBitmap.open(site.path(pair.bitmap));
    try {
      const dirtyChunks = bitmap.dirtyCount();
      const lastDirty = dirtyChunks > 0 && bitmap.isSet(bitmap.chunkCount - 1);
      const dirtyBytes = dirtyChunks * bitmap.chunkSize - (lastDirty ? bitmap.chunkSize - bitmap.chunkLength(bitmap.chunkCount - 1) : 0);
      // Read without the lock: the copier moves the pointer to the end just before it
      // saves PAIR, so a pair still in COPY shows at most 99.9 %.
      const progress = pair.state === 'COPY' ? Math.min(99.9, Math.floor((bitmap.copyPointer / bitmap.chunkCount) * 1000) / 10) : 100;
      return {
        pair: pair.pair,
        state: pair.state,
        direction: pair.direction ?? 'forward',
        mvol: pair.mvol,
        rvol: {site: pair.rvol.name, ldev: pair.rvol.ldev},
        chunkSize: pair.chunkSize,
        chunks: bitmap.chunkCount,
        dirtyChunks,
        dirtyBytes,
        copyProgress: progress,
        created: pair.created,
      };
    } finally {
      bitmap.close();
    }
  });
}
