// Pair create (patent Fig. 14, paragraphs 0059–0063): check both volumes, reserve
// the R-VOL at the remote, set every bit, then copy. Running it again for the same
// M-VOL and R-VOL after an interruption resumes the copy from its pointer.
import fs from 'node:fs';
import path from 'node:path';
import {InvalidArgumentError, PairStateError, VolumeInUseError, WrongRoleError} from '../errors.js';
import {linkOf} from '../site/link-opener.js';
import {pairBitmapName} from '../site/layout.js';
import {PairBitmap} from './bitmap.js';
import {runCopy, type CopyProgress} from './copy.js';
import {imageIdentity} from '../volume/image-identity.js';
import type {Site} from '../site/site.js';
import type {PairRow} from '../site/tables.js';

export const DEFAULT_CHUNK_SIZE = 64 * 1024;

export interface PairCreateOptions {
  mvol: number;
  rvol: number;
  chunkSize?: number;
  onProgress?: (progress: CopyProgress) => void;
}

export interface PairCreateResult {
  pair: number;
  state: PairRow['state'];
  copiedBytes: number;
  holeBytes: number;
  resumed: boolean;
}

export async function createPair(site: Site, options: PairCreateOptions): Promise<PairCreateResult> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 4096 || chunkSize > 64 * 1024 * 1024 || (chunkSize & (chunkSize - 1)) !== 0) {
    throw new InvalidArgumentError(`chunk size ${chunkSize} must be a power of two from 4K to 64M`);
  }
  const {pair, resumed} = await site.updateAsync(async tables => {
    const link = await linkOf(site, tables);
    const existing = tables.pairs.find(p => p.mvol === options.mvol && p.rvol.ldev === options.rvol && p.rvol.site === link.remote.id);
    if (existing) {
      if (existing.state !== 'COPY') {
        throw new PairStateError(`pair ${existing.pair} (LDEV ${options.mvol} → ${link.remote.name}:${options.rvol}) already exists in state ${existing.state}`,
          existing.state === 'PAIR' ? undefined : 'use `marklog pair resync`');
      }
      return {pair: existing.pair, resumed: true};
    }
    const mvol = site.volume(tables, options.mvol);
    if (mvol.reserve !== 'none' && mvol.reserve !== 'R-VOL') {
      throw new VolumeInUseError(`LDEV ${mvol.ldev} is reserved as ${mvol.reserve} and cannot be an M-VOL`);
    }
    if (link.remote.role !== 'remote') throw new WrongRoleError(`linked site ${link.remote.name} is not a remote site`);
    const identity = imageIdentity(site.path(mvol.image));
    const same = identity === null ? null : await link.findImage(identity);
    if (same?.ldev === options.rvol) {
      throw new VolumeInUseError(`R-VOL LDEV ${options.rvol} at ${link.remote.name} is the same file as M-VOL LDEV ${mvol.ldev}: the pair would keep no second copy`, 'give the R-VOL an image of its own (`marklog volume create` at the remote)');
    }
    const number = tables.next.pair;
    const claim = {pair: number, primarySite: tables.site.id, mvol: mvol.ldev};
    const bitmapName = pairBitmapName(number);
    fs.mkdirSync(path.dirname(site.path(bitmapName)), {recursive: true, mode: 0o700});
    await link.reserveRvol(options.rvol, claim, mvol.capacity);
    try {
      PairBitmap.create(site.path(bitmapName), mvol.capacity, chunkSize);
    } catch (error) {
      await link.releaseRvol(options.rvol, claim);
      throw error;
    }
    tables.pairs.push({
      pair: number,
      mvol: mvol.ldev,
      rvol: {site: link.remote.id, name: link.remote.name, ldev: options.rvol},
      state: 'COPY',
      chunkSize,
      bitmap: bitmapName,
      created: new Date().toISOString(),
      logGroup: null,
    });
    mvol.pairs.push(number);
    tables.next.pair = number + 1;
    return {pair: number, resumed: false};
  });
  const copy = await runCopy(site, pair, options.onProgress);
  return {pair, state: copy.state, copiedBytes: copy.copiedBytes, holeBytes: copy.holeBytes, resumed};
}
