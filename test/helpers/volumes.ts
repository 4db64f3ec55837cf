// Volume-level vocabulary: fill an image fast, read back through the CLI, count
// chunks, look at one pair.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {cli, cliJson} from './cli.js';

/**
 * Fills an M-VOL image with non-zero data by writing the file directly (allowed in
 * tests: it stands for data the host wrote before the pair existed). Every 4 MiB block
 * differs, so a chunk copied to the wrong place changes the hash.
 */
/**
 * Data in every other chunk, holes between: the copy then moves one chunk per step,
 * slow enough for a test to watch it and race it even with in-kernel copies.
 */
export function fillAlternateChunks(file: string, chunk = 4096): void {
  const block = crypto.randomBytes(chunk);
  const fd = fs.openSync(file, 'r+');
  try {
    const size = fs.fstatSync(fd).size;
    for (let at = 0, n = 0; at < size; at += 2 * chunk, n++) {
      block.writeUInt32LE(n, 0);
      fs.writeSync(fd, block, 0, block.length, at);
    }
  } finally {
    fs.closeSync(fd);
  }
}


/** Runs `work` with a scratch directory that is removed afterwards. */
function withScratch<T>(work: (dir: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marklog-io-'));
  try {
    return work(dir);
  } finally {
    fs.rmSync(dir, {recursive: true, force: true});
  }
}

/** Reads bytes through `marklog read --out` (binary-safe); throws if the command fails. */
export function readAt(site: string, ldev: number, offset: number, length: number): Buffer {
  return withScratch(dir => {
    const out = path.join(dir, 'read.bin');
    const result = cli(['read', '--site', site, '--vol', String(ldev), '--offset', String(offset), '--length', String(length), '--out', out]);
    if (result.code !== 0) throw new Error(`marklog read exited ${result.code}: ${result.stderr}`);
    return fs.readFileSync(out);
  });
}

/** Writes through `marklog write --file`; throws if the command fails. */
export function writeFileAt(site: string, ldev: number, offset: number, data: Buffer): void {
  withScratch(dir => {
    const file = path.join(dir, 'write.bin');
    fs.writeFileSync(file, data);
    cliJson(['write', '--site', site, '--vol', String(ldev), '--offset', String(offset), '--file', file]);
  });
}

/** How many chunks of the given size the byte ranges touch together. */
export function chunksTouched(ranges: {offset: number; length: number}[], chunkSize: number): number {
  const chunks = new Set<number>();
  for (const {offset, length} of ranges) {
    for (let c = Math.floor(offset / chunkSize); c <= Math.floor((offset + length - 1) / chunkSize); c++) chunks.add(c);
  }
  return chunks.size;
}

export interface PairView {
  pair: number;
  state: string;
  mvol: number;
  rvol: {site: string; ldev: number};
  chunkSize: number;
  chunks: number;
  dirtyChunks: number;
  dirtyBytes: number;
  copyProgress: number;
}

/** `pair display --pair N --json`, the one row. */
export function pairView(site: string, pair: number): PairView {
  return cliJson<{pairs: PairView[]}>(['pair', 'display', '--site', site, '--pair', String(pair)]).pairs[0];
}

/** The same, or the error code when the command failed (e.g. PAIR_NOT_FOUND before the pair exists). */
export function tryPairView(site: string, pair: number): {view?: PairView; code?: string; exitCode: number} {
  const result = cli(['pair', 'display', '--site', site, '--pair', String(pair), '--json']);
  let parsed: any;
  try {
    parsed = JSON.parse(result.stdout);
  } catch {
    return {code: 'NO_JSON', exitCode: result.code};
  }
  if (result.code === 0) return {view: parsed.pairs[0], exitCode: 0};
  return {code: parsed.error?.code ?? 'NO_JSON', exitCode: result.code};
}

/** Bytes the file system actually holds for a (sparse) image. */
export function allocatedBytes(file: string): number {
  return fs.statSync(file).blocks * 512;
}

/** Bytes straight from an image file, bypassing marklog: what losetup or qemu would see. */
export function imageBytes(file: string, offset: number, length: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const out = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(fd, out, done, length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return out.subarray(0, done);
  } finally {
    fs.closeSync(fd);
  }
}
