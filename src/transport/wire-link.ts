// The link to a remote site on another machine: SiteLink over a wire session
// (wire-session.ts) with `marklog agent` at the far end, over SSH or TLS. Every
// method is one request, or several when its bytes exceed what one frame carries
// (WIRE.md §3.4), sent at once and answered in order; calls made one after another
// go out in that order without waiting for the answers before them, so the write
// path's batch costs one round trip, not one per write. A lost connection is resumed
// where the agent keeps sessions (TLS); else it fails the requests in hand
// (REMOTE_UNREACHABLE) and the next call connects again.
import fs from 'node:fs';
import {RemoteUnreachableError, WrongRoleError} from '../errors.js';
import {entriesToWire} from '../endpoint/methods.js';
import {fsx} from '../native/fsx.js';
import type {VolumeImage} from '../volume/image.js';
import {readFull} from '../util/fd-io.js';
import {envWhole, withRetries} from './retries.js';
import {WireSession, type Reply, type WireConnection} from './wire-session.js';
import type {HandedOver} from '../endpoint/failback.js';
import type {WireMethodName} from '../format/wire-methods.js';
import type {LinkRow, LogGap, LoggedGap, PairDirection, PairState, RvolClaim} from '../site/tables.js';
import type {RemoteIdentity, ReservedVolume, SiteLink} from '../site/link.js';
import type {AppendResult, PrepareRequest, PreparedGroup} from '../log/remote-log.js';
import type {NewEntry} from '../log/journal.js';
import type {LoggedMark} from '../mark/remote-marks.js';

/** The most bytes one request carries: half a frame's binary limit, so arguments never push it over. */
export const PIECE_BYTES = 8 * 1024 * 1024;
/** Image extents in flight at once while an image is sent (receiveImage). */
const IMAGE_WINDOW = 8;
const DEFAULT_TIMEOUT_MS = 30_000;

export interface WireLinkOptions {
  /** Where the agent is, in words (the link row's address). */
  address: string;
  /** Makes a new connection to the agent. */
  connect: () => Promise<WireConnection>;
  /** The id of the site this link acts for. */
  client: string;
  /** The id of the site expected at the far end; '' on first contact. */
  site: string;
  /** Connection attempts after the first (default MARKLOG_LINK_RETRIES, else 3). */
  retries?: number;
  /** The agent keeps sessions across connections (a TLS listener): a lost connection is resumed, not failed. */
  resumable?: boolean;
  /** An answer later than this takes the link as lost (default MARKLOG_LINK_TIMEOUT_MS, else 30 s). */
  timeoutMs?: number;
}

/** Byte ranges of at most PIECE_BYTES covering [offset, offset + length). */
function pieces(offset: number, length: number): {offset: number; length: number}[] {
  const out: {offset: number; length: number}[] = [];
  for (let done = 0; done < length || (length === 0 && done === 0); done += PIECE_BYTES) {
    out.push({offset: offset + done, length: Math.min(PIECE_BYTES, length - done)});
    if (length === 0) break;
  }
  return out;
}

/** Consecutive runs of entries whose write data stays within PIECE_BYTES (a single larger write is its own run). */
function appendRuns(entries: readonly NewEntry[]): NewEntry[][] {
  const runs: NewEntry[][] = [];
  let run: NewEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entry.kind === 'write' ? entry.data.length : 0;
    if (run.length > 0 && bytes + size > PIECE_BYTES) {
      runs.push(run);
      run = [];
      bytes = 0;
    }
    run.push(entry);
    bytes += size;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

function nextData(fd: number, offset: number, end: number): number {
  const at = fsx.seek(fd, offset, true);
  return at < 0 ? end : Math.min(at, end);
}

function nextHole(fd: number, offset: number, end: number): number {
  const at = fsx.seek(fd, offset, false);
  return at < 0 ? end : Math.min(at, end);
}

/** The file's bytes at [offset, offset + length), fewer where it ends. */
function readPiece(fd: number, offset: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  return out.subarray(0, readFull(fd, out, length, offset));
}

export class WireLink implements SiteLink {
  private live: WireSession | undefined;
  private opening: Promise<WireSession> | undefined;

  private constructor(private readonly options: WireLinkOptions, readonly remote: RemoteIdentity, session: WireSession) {
    this.live = session;
  }

  /** Connects (retrying briefly: a remote that is away for a moment is not yet an error) and learns who answers. */
  static async open(options: WireLinkOptions): Promise<WireLink> {
    const {session, remote} = await WireLink.connect(options);
    return new WireLink(options, remote, session);
  }

  private static connect(options: WireLinkOptions): Promise<{session: WireSession; remote: RemoteIdentity}> {
    const timeoutMs = options.timeoutMs ?? envWhole('MARKLOG_LINK_TIMEOUT_MS', DEFAULT_TIMEOUT_MS);
    return withRetries(async () => {
      const {session, welcome} = await WireSession.open(await options.connect(), {
        address: options.address, client: options.client, site: options.site, timeoutMs, retries: options.retries,
        reconnect: options.resumable ? options.connect : undefined,
      });
      return {session, remote: welcome.site};
    }, {
      address: options.address,
      retries: options.retries,
      retryable: error => error instanceof RemoteUnreachableError,
      hint: last => (last as RemoteUnreachableError).hint ?? 'check that the remote machine is up and its agent can run',
    });
  }

  /** The session, or a new one when the last was lost: sent from the same turn, calls keep their order. */
  private session(): WireSession | Promise<WireSession> {
    if (this.live && !this.live.broken) return this.live;
    this.live = undefined;
    this.opening ??= WireLink.connect({...this.options, site: this.remote.id}).then(({session, remote}) => {
      this.opening = undefined;
      if (remote.id !== this.remote.id) {
        session.end();
        throw new WrongRoleError(`${this.options.address} now serves site ${remote.name} (${remote.id}), not the linked site ${this.remote.name}`);
      }
      this.live = session;
      return session;
    }, error => {
      this.opening = undefined;
      throw error;
    });
    return this.opening;
  }

  private call(method: WireMethodName, args: unknown, binary: readonly Uint8Array[] = []): Promise<Reply> {
    const session = this.session();
    return session instanceof WireSession ? session.call(method, args, binary) : session.then(s => s.call(method, args, binary));
  }

  private async result<T>(method: WireMethodName, args: unknown): Promise<T> {
    return (await this.call(method, args)).json as T;
  }

  async registerPeer(peer: LinkRow): Promise<void> {
    await this.call('registerPeer', {peer});
  }

  reserveRvol(ldev: number, claim: RvolClaim, minCapacity: number): Promise<ReservedVolume> {
    return this.result('reserveRvol', {ldev, claim, minCapacity});
  }

  releaseRvol(ldev: number, claim: RvolClaim, options: {force?: boolean} = {}): Promise<{leftGroup: number | null}> {
    return this.result('releaseRvol', {ldev, claim, options});
  }

  async writeRvol(ldev: number, offset: number, data: Uint8Array): Promise<void> {
    const sent = pieces(0, data.length).map(piece => this.call('writeRvol', {ldev, offset: offset + piece.offset}, [data.subarray(piece.offset, piece.offset + piece.length)]));
    await Promise.all(sent);
  }

  /** The range's bytes read here and sent, in pieces, all before the first answer. */
  async writeRvolFrom(ldev: number, offset: number, length: number, source: VolumeImage): Promise<void> {
    const sent = pieces(offset, length).map(piece => this.call('writeRvolFrom', {ldev, offset: piece.offset, length: piece.length}, [source.read(piece.offset, piece.length)]));
    await Promise.all(sent);
  }

  async zeroRvol(ldev: number, offset: number, length: number): Promise<void> {
    await this.call('zeroRvol', {ldev, offset, length});
  }

  async readRvol(ldev: number, offset: number, length: number): Promise<Buffer> {
    const read = pieces(offset, length).map(piece => this.call('readRvol', {ldev, offset: piece.offset, length: piece.length}));
    const replies = await Promise.all(read);
    return replies.length === 1 ? replies[0].data : Buffer.concat(replies.map(reply => reply.data));
  }

  prepareLogGroup(request: PrepareRequest): Promise<PreparedGroup> {
    return this.result('prepareLogGroup', {request});
  }

  /** One request per run of entries that fits a frame; the runs are applied in order, so the log IDs are one sequence. */
  async appendToLog(group: number, entries: NewEntry[]): Promise<AppendResult> {
    const sent = appendRuns(entries).map(run => {
      const wire = entriesToWire(run);
      return this.call('appendToLog', {group, entries: wire.entries}, wire.data);
    });
    const results = (await Promise.all(sent)).map(reply => reply.json as AppendResult);
    if (results.length === 1) return results[0];
    return {...results[results.length - 1], appended: results.flatMap(r => r.appended), warnings: [...new Set(results.flatMap(r => r.warnings))]};
  }

  async stopLogGroup(group: number): Promise<void> {
    await this.call('stopLogGroup', {group});
  }

  recordLogGap(gap: LogGap): Promise<LoggedGap> {
    return this.result('recordLogGap', {gap});
  }

  listMarks(group: number): Promise<LoggedMark[]> {
    return this.result('listMarks', {group});
  }

  /** The image file (on this machine) travels as its data extents (WIRE.md §7.3); the volume changes only at the commit. */
  async receiveImage(ldev: number, imageFile: string, force: boolean): Promise<void> {
    const {transfer, capacity} = await this.result<{transfer: string; capacity: number}>('receiveImageBegin', {ldev, force});
    const fd = fs.openSync(imageFile, 'r');
    try {
      const end = Math.min(capacity, fs.fstatSync(fd).size);
      const inFlight: Promise<Reply>[] = [];
      for (let at = nextData(fd, 0, end); at < end; at = nextData(fd, at, end)) {
        const stop = Math.min(nextHole(fd, at, end), at + PIECE_BYTES);
        inFlight.push(this.call('receiveImageChunk', {transfer, offset: at}, [readPiece(fd, at, stop - at)]));
        if (inFlight.length >= IMAGE_WINDOW) await inFlight.shift();
        at = stop;
      }
      await Promise.all(inFlight);
      await this.call('receiveImageCommit', {transfer, force});
    } catch (error) {
      // Best effort: an agent that is gone removes its staging files itself.
      await this.call('receiveImageAbort', {transfer}).catch(() => {});
      throw error;
    } finally {
      fs.closeSync(fd);
    }
  }

  readDirtyRanges(ldev: number, claim: RvolClaim): Promise<HandedOver> {
    return this.result('readDirtyRanges', {ldev, claim});
  }

  async forgetDirtyRanges(ldev: number, claim: RvolClaim, token: number): Promise<void> {
    await this.call('forgetDirtyRanges', {ldev, claim, token});
  }

  setDirection(ldev: number, claim: RvolClaim, direction: 'forward' | 'reverse'): Promise<HandedOver> {
    return this.result('setDirection', {ldev, claim, direction});
  }

  describeVolume(ldev: number): Promise<{ldev: number; capacity: number; reserve: string; rvolOf: RvolClaim | null} | null> {
    return this.result('describeVolume', {ldev});
  }

  findImage(identity: string): Promise<{site: string; ldev: number} | null> {
    return this.result('findImage', {identity});
  }

  describePair(pair: number): Promise<{pair: number; state: PairState; direction: PairDirection; mvol: number} | null> {
    return this.result('describePair', {pair});
  }

  async flushRvol(ldev: number): Promise<void> {
    await this.call('flushRvol', {ldev});
  }

  close(): void {
    this.live?.end();
    this.live = undefined;
  }
}
