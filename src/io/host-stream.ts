// Host reads and writes of any length (the CLI's `read` and `write`): the range is
// checked before anything is read or allocated, then the bytes move in pieces, so
// memory stays bounded whatever the length (OPERATING.md §3).
//
// A long write is a run of ordinary host writes, one per piece, each routed by the
// pair states like any other (PAIR → R-VOL, suspended → bitmap, logging → one log
// record per piece) and each with its own in-flight record, so a crash mid-way
// leaves every piece either complete everywhere or repaired by the next command.
// The site lock is held from the first piece to the last: a mark needs that lock,
// so no mark can fall between two pieces of one command and a restore to a mark
// holds all of such a write or none of it. Only the remote's own commands (an
// apply, a takeover) may run between pieces; those act on marks already logged,
// or refuse the later pieces as they would a later write.
import {InputShortError, InvalidArgumentError, OutOfRangeError} from '../errors.js';
import {checkHostAccess, hostWrite, syncEverywhere, type HostWriteOptions, type HostWriteResult} from './host-io.js';
import type {Site} from '../site/site.js';
import type {VolumeRow} from '../site/tables.js';

/** Bytes per piece: the per-write costs vanish at this size, and it stays far inside the memory bound. */
export const PIECE_SIZE = 2 * 1024 * 1024;

export interface ByteSource {
  /** The input as a message names it: a quoted file name, or "standard input". */
  readonly name: string;
  /** How many bytes it holds, when that is known before reading (a regular file). */
  readonly size?: number;
  /** Fills `buffer[0, length)` as far as the input goes; fewer bytes only at its end. */
  read(buffer: Buffer, length: number): number;
}

export interface ByteSink {
  /**
   * True when what is not written reads as zeros and finish() sets the length (a
   * regular file opened empty): holes of the volume are then skipped, not copied.
   */
  readonly sparse: boolean;
  /**
   * Writes `buffer[0, length)` at `at` bytes from the start of the output (sparse),
   * or next (not). A promise means the buffer is in use until it settles.
   */
  write(buffer: Buffer, length: number, at: number): void | Promise<void>;
  finish(length: number): void;
  close(): void;
}

export interface StreamWriteOptions extends HostWriteOptions {
  /** Bytes to take from the input; the input must hold at least this many. */
  length?: number;
}

function hostVolume(site: Site, ldev: number, writing: boolean): VolumeRow {
  const tables = site.view();
  const volume = site.volume(tables, ldev);
  checkHostAccess(tables, volume, writing);
  return volume;
}

function checkWrite(site: Site, ldev: number, offset: number, length: number): VolumeRow {
  const volume = hostVolume(site, ldev, true);
  site.image(volume).checkRange(offset, length);
  return volume;
}

/** Later pieces repeat a warning with new figures (a log's fill ratio): the last one stands for all. */
function keepWarnings(kept: Map<string, string>, warnings: string[]): void {
  for (const warning of warnings) kept.set(warning.replace(/\d+(\.\d+)?/g, '#'), warning);
}

export async function hostWriteFrom(site: Site, ldev: number, offset: number, source: ByteSource, options: StreamWriteOptions = {}): Promise<HostWriteResult> {
  if (options.length === 0) throw new InvalidArgumentError('nothing to write: --length is 0');
  if (options.length !== undefined && source.size !== undefined && source.size < options.length) {
    throw new InputShortError(`${source.name} holds ${source.size} bytes, fewer than the ${options.length} to write`);
  }
  const promised = options.length ?? source.size;
  if (promised === 0) throw new InvalidArgumentError(`nothing to write: ${source.name} is empty`);
  if (promised !== undefined) checkWrite(site, ldev, offset, promised);

  const buffer = Buffer.allocUnsafe(Math.min(PIECE_SIZE, promised ?? PIECE_SIZE));
  const want = (done: number) => Math.min(buffer.length, (promised ?? Number.MAX_SAFE_INTEGER) - done);
  const short = (got: number, written: number) => new InputShortError(
    `${source.name} ended after ${got} of the ${promised} bytes to write${written > 0 ? `; the first ${written} were written at ${offset}` : '; nothing was written'}`);
  // The first piece is read before the lock is taken, so a slow producer of a
  // short write keeps no other command waiting; once writing, the lock stays.
  let filled = source.read(buffer, want(0));
  if (filled === 0) throw new InvalidArgumentError(`nothing to write: ${source.name} is empty`);
  if (promised !== undefined && filled < want(0)) throw short(filled, 0);
  // An input of unknown length that fits in one piece is known whole now.
  const total = promised ?? (filled < buffer.length ? filled : undefined);

  return site.lock.runAsync(async () => {
    const volume = checkWrite(site, ldev, offset, total ?? filled);
    const logged: HostWriteResult['logged'] = [];
    const warnings = new Map<string, string>();
    let done = 0;
    for (;;) {
      if (offset + done + filled > volume.capacity) {
        throw new OutOfRangeError(`${source.name} holds more than the ${volume.capacity - offset} bytes from offset ${offset} to the end of LDEV ${ldev} (capacity ${volume.capacity}); the first ${done} were written`,
          'give --length to have the whole range checked before anything is written');
      }
      const result = await hostWrite(site, ldev, offset + done, buffer.subarray(0, filled));
      logged.push(...result.logged);
      keepWarnings(warnings, result.warnings);
      done += filled;
      if (done === total) break;
      filled = source.read(buffer, want(done));
      if (filled === 0 && total === undefined) break;
      if (promised !== undefined && filled < want(done)) throw short(done + filled, done);
    }
    // Once for all pieces: it flushes whole files.
    if (options.sync) await syncEverywhere(site, site.view(), site.volume(site.view(), ldev));
    return {ldev, offset, length: done, logged, warnings: [...warnings.values()]};
  });
}

/**
 * Reads [offset, offset + length) of a volume into a sink opened only once the
 * range is known to be good, so a refused read creates or truncates no file.
 * Returns the number of bytes delivered.
 */
export async function hostReadTo(site: Site, ldev: number, offset: number, length: number, openSink: () => ByteSink): Promise<number> {
  const image = site.image(hostVolume(site, ldev, false));
  image.checkRange(offset, length);
  const sink = openSink();
  try {
    const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(PIECE_SIZE, length)));
    const end = offset + length;
    let at = offset;
    while (at < end) {
      // A sparse sink skips the volume's holes; others get their zeros like any bytes.
      if (sink.sparse) at = Math.min(end, image.nextData(at));
      const stop = sink.sparse ? Math.min(end, Math.max(at, image.nextHole(at))) : end;
      while (at < stop) {
        const n = Math.min(buffer.length, stop - at);
        image.readInto(at, buffer, n);
        await sink.write(buffer, n, at - offset);
        at += n;
      }
    }
    sink.finish(length);
  } finally {
    sink.close();
  }
  return length;
}
