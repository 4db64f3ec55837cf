// Two sites with pairs in log mode, and the vocabulary of the journal flows
// (patent Figs. 16-23): a host that writes and marks while keeping its own model of
// every M-VOL, so a test can say what a volume must look like at any mark.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type {ExecutionContext} from 'ava';
import {cli, cliJson} from './cli.js';
import {createVolume, imagePath, twoSites, type TwoSites} from './sites.js';

export interface Member {
  pair: number;
  mvol: number;
  rvol: number;
}

export interface LoggingOptions {
  /** How many pairs (M-VOL/R-VOL) the group logs; default 1. */
  pairs?: number;
  /** Capacity of every M-VOL and R-VOL; default 1M. */
  size?: string;
  /** Capacity of the pool volume the log takes; null leaves the pool empty. Default 4M. */
  logSize?: string | null;
  group?: number;
  /** Run `log start` (default true); false leaves the pairs in PAIR. */
  start?: boolean;
  /**
   * What each M-VOL holds before the pair is created: 'random' bytes (default, so the
   * frozen base is not all zeros), or 'holes': the sparse volume as created, for a
   * file system the test makes itself on a large volume.
   */
  base?: 'random' | 'holes';
}

export interface LoggingSites extends TwoSites {
  group: number;
  members: Member[];
  /** The pool volume at the remote that became (or would become) the log volume. */
  logLdev: number | null;
  /** Bytes per data volume. */
  capacity: number;
  /** The host, holding the model of every M-VOL (whose start is each R-VOL's frozen base). */
  host: Host;
}

export interface WriteResult {
  ldev: number;
  offset: number;
  length: number;
  logged: {group: number; logId: number}[];
  warnings: string[];
}

export interface MarkResult {
  markId: number;
  logId: number;
  time: string;
  app: string;
  group: number;
  warnings?: string[];
}

/** What a command that should fail left behind: its exit code and `error` object. */
export interface Failure {
  exitCode: number;
  code: string;
  message: string;
}

/** Runs a command with --json that is expected to fail; a success shows up as code 'SUCCEEDED'. */
export function cliFailure(args: string[], options: {input?: string | Buffer} = {}): Failure {
  const result = cli([...args, '--json'], options);
  let parsed: any;
  try {
    parsed = JSON.parse(result.stdout);
  } catch {
    parsed = undefined;
  }
  if (result.code === 0) return {exitCode: 0, code: 'SUCCEEDED', message: result.stdout};
  return {
    exitCode: result.code,
    code: parsed?.error?.code ?? `NO_JSON_ERROR: ${result.stdout}${result.stderr}`,
    message: parsed?.error?.message ?? '',
  };
}

export function digest(data: Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** The whole image file, for comparison with a model. */
export function imageBytes(file: string): Buffer {
  return fs.readFileSync(file);
}

/**
 * A production host (patent: host 1) writing through marklog. Each write and mark runs
 * the real CLI with --json and is mirrored in an in-memory copy of the M-VOL, and each
 * mark keeps a copy of every M-VOL as it was at that moment.
 */
export class Host {
  private readonly current = new Map<number, Buffer>();
  private readonly marked = new Map<number, Map<number, Buffer>>();

  private writes = 0;

  /** `scratch` is a directory for the data files handed to `write --file`; the host keeps `bases` as its model and changes them. */
  constructor(readonly primary: string, readonly group: number, bases: Map<number, Buffer>, private readonly scratch: string) {
    for (const [mvol, base] of bases) this.current.set(mvol, base);
  }

  /** Writes with `write --json --file` and mirrors the bytes in the model once it succeeded. */
  write(mvol: number, offset: number, data: Buffer): WriteResult {
    const result = cliJson<WriteResult>(this.writeArgs(mvol, offset, data));
    data.copy(this.current.get(mvol)!, offset);
    return result;
  }

  /**
   * The argument list of a `write` of these bytes (data staged in a file), for tests
   * that run it themselves, e.g. without --json. Call `landed` once it succeeded.
   */
  writeArgs(mvol: number, offset: number, data: Buffer): string[] {
    const file = path.join(this.scratch, `write-${++this.writes}.bin`);
    fs.writeFileSync(file, data);
    return ['write', '--site', this.primary, '--vol', String(mvol), '--offset', String(offset), '--file', file];
  }

  /** Mirrors a write the test ran itself through `writeArgs`. */
  landed(mvol: number, offset: number, data: Buffer): void {
    data.copy(this.current.get(mvol)!, offset);
  }

  /** A write of `length` random bytes. */
  writeRandom(mvol: number, offset: number, length: number): WriteResult {
    return this.write(mvol, offset, crypto.randomBytes(length));
  }

  mark(app = 'test-app'): MarkResult {
    const result = cliJson<MarkResult>(this.markArgs(app));
    this.took(result);
    return result;
  }

  /** The argument list of a `mark`, for tests that run it themselves (elsewhere, or without blocking); call `took` with its result. */
  markArgs(app = 'test-app'): string[] {
    return ['mark', '--site', this.primary, '--group', String(this.group), '--app', app];
  }

  /** Keeps every M-VOL as it is now as the image of a mark the test took itself through `markArgs`. */
  took(result: MarkResult): void {
    this.marked.set(result.markId, new Map([...this.current].map(([mvol, image]) => [mvol, Buffer.from(image)])));
  }

  /**
   * The M-VOL now holds `image` by something other than this host's writes (a restore
   * onto the M-VOLs, a failback from the R-VOL): the model follows.
   */
  reset(mvol: number, image: Buffer): void {
    this.current.set(mvol, Buffer.from(image));
  }

  /** Every M-VOL's contents as the host wrote them, now. */
  now(mvol: number): Buffer {
    return Buffer.from(this.current.get(mvol)!);
  }

  /** An M-VOL's contents when the mark was taken: what a restore to that mark must give. */
  atMark(markId: number, mvol: number): Buffer {
    const images = this.marked.get(markId);
    if (!images) throw new Error(`the host issued no mark ${markId}`);
    return images.get(mvol)!;
  }
}

/**
 * A primary and a remote with `pairs` pairs in PAIR state, each M-VOL filled with
 * random data first (so the frozen base is not all zeros), one pool volume at the
 * remote, and (unless start is false) the pairs logging in one log group.
 */
export function loggingSites(t: ExecutionContext, options: LoggingOptions = {}): LoggingSites {
  const {pairs = 1, size = '1M', logSize = '4M', group = 1, start = true, base: fill = 'random'} = options;
  const sites = twoSites(t);
  const {primary, remote} = sites;
  const members: Member[] = [];
  const bases = new Map<number, Buffer>();
  let capacity = 0;
  for (let i = 0; i < pairs; i++) {
    const mvol = createVolume(primary, size);
    const rvol = createVolume(remote, size);
    capacity = fs.statSync(imagePath(primary, mvol)).size;
    if (fill === 'random') {
      const base = crypto.randomBytes(capacity);
      const baseFile = path.join(sites.root, `base-${mvol}.bin`);
      fs.writeFileSync(baseFile, base);
      cliJson(['write', '--site', primary, '--vol', String(mvol), '--offset', '0', '--file', baseFile]);
      fs.rmSync(baseFile);
      bases.set(mvol, base);
    } else {
      // Zeros the process touches only where the host model is written.
      bases.set(mvol, Buffer.alloc(capacity));
    }
    const created = cliJson<{pair: number; state: string}>(['pair', 'create', '--site', primary, '--mvol', String(mvol), '--rvol', String(rvol)]);
    if (created.state !== 'PAIR') throw new Error(`pair ${created.pair} is ${created.state} after create`);
    members.push({pair: created.pair, mvol, rvol});
  }
  const logLdev = logSize === null ? null : createVolume(remote, logSize, ['--pool']);
  if (start) {
    cliJson(['log', 'start', '--site', primary, '--pairs', members.map(m => m.pair).join(','), '--group', String(group)]);
  }
  const scratch = path.join(sites.root, 'host-data');
  fs.mkdirSync(scratch);
  return {...sites, group, members, logLdev, capacity, host: new Host(primary, group, bases, scratch)};
}

export interface GroupStatus {
  group: number;
  mode: string;
  full: boolean;
  logVolumes: {ldev: number; capacity: number; used: number; records: number; marks: number}[];
  usage: {capacity: number; used: number; free: number; freeRatio: number; records: number; usedRatio: number};
  logIds: {oldestLogId: number | null; newestLogId: number | null};
  markIds: {oldestMarkId: number | null; newestMarkId: number | null; marks: number};
  threshold: number;
  alert: boolean;
  baseGeneration: number;
}

/** `log status --group G --json` at a site, the one group. */
export function logStatus(site: string, group: number): GroupStatus {
  return cliJson<{groups: GroupStatus[]}>(['log', 'status', '--site', site, '--group', String(group)]).groups[0];
}

export interface MarkRow {
  markId: number;
  logId: number;
  time: string;
  app: string;
  host: boolean | null;
  remote: boolean | null;
}

/** `mark list --group G --json` at a site, the rows of that group. */
export function markList(site: string, group: number): MarkRow[] {
  return cliJson<{groups: {group: number; marks: MarkRow[]}[]}>(['mark', 'list', '--site', site, '--group', String(group)]).groups[0].marks;
}

/** `restore --json` at the remote; the args after the site and group (e.g. --mark 2 --to FILE). */
export function restore(remote: string, group: number, args: string[]): any {
  return cliJson(['restore', '--site', remote, '--group', String(group), ...args]);
}
