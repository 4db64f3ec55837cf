// A complete image overwriting a volume at this site (restore onto an M-VOL, claim
// 4). The local transport hands over the image file itself, which is on this machine
// (receiveImage: cloned in-kernel). Over the wire the image comes as a stream of
// extents instead (docs/WIRE.md §7.3): receiveImageBegin checks the volume may be
// overwritten and opens a staging file here, as sparse as the volume; each
// receiveImageChunk writes bytes of one extent into it (ranges never sent stay
// zeros); receiveImageCommit overwrites the volume from it exactly as receiveImage
// does, and removes it; receiveImageAbort throws it away.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {InvalidArgumentError, PairStateError} from '../errors.js';
import {PairBitmap} from '../pair/bitmap.js';
import {VolumeImage} from '../volume/image.js';
import {cloneImage} from '../restore/replay.js';
import {processAlive} from '../restore/staging.js';
import {refuseLogVolume} from './volumes.js';
import {hookPoint} from '../util/test-hooks.js';
import type {Site} from '../site/site.js';
import type {PairRow, Tables, VolumeRow} from '../site/tables.js';

/** Where the staging files of image transfers live inside a site. */
export const RECEIVING_DIR = 'receiving';
const TRANSFER = /^[0-9a-f]{16}$/;
const STAGED = /^ldev-(\d+)-([0-9a-f]{16})\.img\.(\d+)$/;

/** The volume and its pairs, once the checks that come before any change pass. */
function receivable(site: Site, tables: Tables, ldev: number, force: boolean): {row: VolumeRow; pairs: PairRow[]} {
  const row = site.volume(tables, ldev);
  refuseLogVolume(tables, row);
  const pairs = tables.pairs.filter(p => p.mvol === ldev);
  const live = pairs.find(p => p.state === 'PAIR' || p.state === 'COPY');
  if (live) throw new PairStateError(`LDEV ${ldev} is the M-VOL of pair ${live.pair} in ${live.state}; suspend it before restoring onto it`);
  const takenOver = pairs.length > 0 && pairs.every(p => p.state === 'SSWS');
  if (!force && !takenOver) {
    throw new InvalidArgumentError(`restoring onto M-VOL LDEV ${ldev} at ${tables.site.name} overwrites production data; add --force`);
  }
  return {row, pairs};
}

/** Overwrites volume `ldev` with `source`, an image at least as large. */
function overwriteFrom(site: Site, ldev: number, force: boolean, open: (capacity: number) => VolumeImage): void {
  site.update(tables => {
    const {row, pairs} = receivable(site, tables, ldev, force);
    // The base of a log group changing outside log apply, as a write does (noteBaseChange): its log no longer fits it.
    if (row.logGroup !== null) row.generation += 1;
    // The M-VOL no longer follows its R-VOL or its log: everything must be copied
    // again. Recorded before the first byte changes, so a copy killed half way
    // leaves pairs that know it, not ones that resync a few chunks and call it PAIR.
    for (const pair of pairs) {
      const bitmap = PairBitmap.open(site.path(pair.bitmap));
      bitmap.markRange(0, row.capacity);
      bitmap.copyPointer = 0;
      bitmap.flush();
      bitmap.close();
      pair.logGroup = null;
      if (pair.state !== 'SSWS') pair.state = 'PSUS';
    }
    site.save(tables);
    hookPoint('receive:before-copy');
    const source = open(row.capacity);
    try {
      cloneImage(source, site.image(row));
      site.image(row).syncAll();
    } finally {
      source.close();
    }
  });
}

/** The local transport's way: `imageFile` is a file on this machine. */
export function receiveImage(site: Site, ldev: number, imageFile: string, force: boolean): void {
  overwriteFrom(site, ldev, force, capacity => VolumeImage.open(imageFile, capacity));
}

function stagedName(ldev: number, transfer: string, pid = process.pid): string {
  return `ldev-${ldev}-${transfer}.img.${pid}`;
}

/** The staging file of a transfer this process began; InvalidArgumentError for any other. */
function stagedFile(site: Site, transfer: unknown): {file: string; ldev: number} {
  if (typeof transfer !== 'string' || !TRANSFER.test(transfer)) throw new InvalidArgumentError(`image transfer ${JSON.stringify(transfer)} is not 16 hexadecimal digits`);
  const dir = path.join(site.dir, RECEIVING_DIR);
  const name = fs.existsSync(dir) ? fs.readdirSync(dir).find(n => STAGED.exec(n)?.[2] === transfer && STAGED.exec(n)?.[3] === String(process.pid)) : undefined;
  if (!name) throw new InvalidArgumentError(`no image transfer ${transfer} is open at ${site.name}`, 'begin it again with receiveImageBegin');
  return {file: path.join(dir, name), ldev: Number(STAGED.exec(name)![1])};
}

/** Staging files whose process is gone (an agent killed mid-transfer). */
function clearAbandoned(dir: string): void {
  for (const name of fs.readdirSync(dir)) {
    const pid = Number(STAGED.exec(name)?.[3]);
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid)) fs.rmSync(path.join(dir, name), {force: true});
  }
}

export interface ImageTransfer {
  transfer: string;
  /** The bytes the image must cover: the volume's capacity. */
  capacity: number;
}

/** Checks the volume may be overwritten (nothing changes yet) and opens an all-zero staging image of its size. */
export function receiveImageBegin(site: Site, ldev: number, force: boolean): ImageTransfer {
  return site.lock.run(() => {
    const {row} = receivable(site, site.view(), ldev, force);
    const dir = path.join(site.dir, RECEIVING_DIR);
    fs.mkdirSync(dir, {recursive: true, mode: 0o700});
    clearAbandoned(dir);
    const transfer = crypto.randomBytes(8).toString('hex');
    VolumeImage.create(path.join(dir, stagedName(ldev, transfer)), row.capacity);
    return {transfer, capacity: row.capacity};
  });
}

/** Writes one piece of an extent of the image into the staging file. */
export function receiveImageChunk(site: Site, transfer: string, offset: number, data: Uint8Array): void {
  const {file} = stagedFile(site, transfer);
  const image = VolumeImage.open(file, fs.statSync(file).size);
  try {
    image.write(offset, data);
  } finally {
    image.close();
  }
}

/** Overwrites the volume from the staging file, as receiveImage does, and removes the file. */
export function receiveImageCommit(site: Site, transfer: string, force: boolean): void {
  const {file, ldev} = stagedFile(site, transfer);
  try {
    overwriteFrom(site, ldev, force, capacity => VolumeImage.open(file, capacity));
  } finally {
    fs.rmSync(file, {force: true});
  }
}

/** Throws a transfer away; the volume was never touched. */
export function receiveImageAbort(site: Site, transfer: string): void {
  fs.rmSync(stagedFile(site, transfer).file, {force: true});
}

/** Every transfer this process began and did not finish (an agent ending). */
export function abortOpenTransfers(site: Site): void {
  const dir = path.join(site.dir, RECEIVING_DIR);
  if (!fs.existsSync(dir)) return;
  for (const name of fs.readdirSync(dir)) if (STAGED.exec(name)?.[3] === String(process.pid)) fs.rmSync(path.join(dir, name), {force: true});
}
