// The link to a remote site that is a directory on this machine. It calls the
// remote's method table (src/endpoint/methods.ts) directly, as the agent does for a
// request off the wire, with the same arguments but without encoding them; only two
// methods keep a fast path that needs the far side on the same machine:
// writeRvolFrom (copy_file_range from the M-VOL's image) and receiveImage (the
// image file itself, cloned).
import {RemoteUnreachableError, SiteNotFoundError, WrongRoleError} from '../errors.js';
import {Site} from './site.js';
import {methods, entriesToWire} from '../endpoint/methods.js';
import {NO_BYTES} from '../endpoint/args.js';
import {hello, writeVolumeFrom} from '../endpoint/volumes.js';
import {receiveImage} from '../endpoint/receive-image.js';
import type {HandedOver} from '../endpoint/failback.js';
import type {LinkRow, LogGap, LoggedGap, RvolClaim} from './tables.js';
import type {RemoteIdentity, ReservedVolume, SiteLink} from './link.js';
import type {AppendResult, PrepareRequest, PreparedGroup} from '../log/remote-log.js';
import type {NewEntry} from '../log/journal.js';
import type {VolumeImage} from '../volume/image.js';
import type {LoggedMark} from '../mark/remote-marks.js';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

function retryCount(): number {
  const text = process.env.MARKLOG_LINK_RETRIES?.trim();
  const fromEnv = text ? Number(text) : Number.NaN;
  return Number.isSafeInteger(fromEnv) && fromEnv >= 0 ? fromEnv : 3;
}

/** Opens the remote site, retrying briefly: a remote that is missing for a moment is not yet an error. */
export function reachRemote(dir: string): Site {
  const attempts = retryCount() + 1;
  let last: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return Site.open(dir);
    } catch (error) {
      if (!(error instanceof SiteNotFoundError)) throw error;
      last = error;
      if (attempt < attempts) Atomics.wait(sleeper, 0, 0, 100 * attempt);
    }
  }
  throw new RemoteUnreachableError(`remote site ${dir} does not answer after ${attempts} attempts: ${(last as Error).message}`,
    'check that the remote directory is mounted and is a marklog site');
}

export class LocalDirectoryLink implements SiteLink {
  readonly remote: RemoteIdentity;

  private constructor(private readonly site: Site) {
    this.remote = hello(site);
  }

  /** A link to whatever site is at `dir` now: for the first contact, before its id is known. */
  static probe(dir: string): LocalDirectoryLink {
    return new LocalDirectoryLink(reachRemote(dir));
  }

  get dir(): string {
    return this.site.dir;
  }

  static connect(row: LinkRow): LocalDirectoryLink {
    const link = new LocalDirectoryLink(reachRemote(row.remote));
    if (link.remote.id !== row.siteId) {
      throw new WrongRoleError(`the directory ${row.remote} now holds site ${link.remote.name} (${link.remote.id}), not the linked site ${row.name}`);
    }
    return link;
  }

  registerPeer(peer: LinkRow): void {
    methods.registerPeer(this.site, {peer}, NO_BYTES);
  }

  reserveRvol(ldev: number, claim: RvolClaim, minCapacity: number): ReservedVolume {
    return methods.reserveRvol(this.site, {ldev, claim, minCapacity}, NO_BYTES).result;
  }

  releaseRvol(ldev: number, claim: RvolClaim, options: {force?: boolean} = {}): {leftGroup: number | null} {
    return methods.releaseRvol(this.site, {ldev, claim, options}, NO_BYTES).result;
  }

  writeRvol(ldev: number, offset: number, data: Uint8Array): void {
    methods.writeRvol(this.site, {ldev, offset}, [data]);
  }

  /** The fast path: the source image is on this machine, so the copy stays in the kernel (copy_file_range). */
  writeRvolFrom(ldev: number, offset: number, length: number, source: VolumeImage): void {
    writeVolumeFrom(this.site, ldev, offset, length, source);
  }

  zeroRvol(ldev: number, offset: number, length: number): void {
    methods.zeroRvol(this.site, {ldev, offset, length}, NO_BYTES);
  }

  readRvol(ldev: number, offset: number, length: number): Buffer {
    return methods.readRvol(this.site, {ldev, offset, length}, NO_BYTES).data!;
  }

  prepareLogGroup(request: PrepareRequest): PreparedGroup {
    return methods.prepareLogGroup(this.site, {request}, NO_BYTES).result;
  }

  appendToLog(group: number, entries: NewEntry[]): AppendResult {
    const wire = entriesToWire(entries);
    return methods.appendToLog(this.site, {group, entries: wire.entries}, wire.data).result;
  }

  stopLogGroup(group: number): void {
    methods.stopLogGroup(this.site, {group}, NO_BYTES);
  }

  recordLogGap(gap: LogGap): LoggedGap {
    return methods.recordLogGap(this.site, {gap}, NO_BYTES).result;
  }

  listMarks(group: number): LoggedMark[] {
    return methods.listMarks(this.site, {group}, NO_BYTES).result;
  }

  /** The fast path: the image file is on this machine, so it is cloned in-kernel instead of sent as extents. */
  receiveImage(ldev: number, imageFile: string, force: boolean): void {
    receiveImage(this.site, ldev, imageFile, force);
  }

  readDirtyRanges(ldev: number, claim: RvolClaim): HandedOver {
    return methods.readDirtyRanges(this.site, {ldev, claim}, NO_BYTES).result;
  }

  forgetDirtyRanges(ldev: number, claim: RvolClaim, token: number): void {
    methods.forgetDirtyRanges(this.site, {ldev, claim, token}, NO_BYTES);
  }

  setDirection(ldev: number, claim: RvolClaim, direction: 'forward' | 'reverse'): HandedOver {
    return methods.setDirection(this.site, {ldev, claim, direction}, NO_BYTES).result;
  }

  describeVolume(ldev: number) {
    return methods.describeVolume(this.site, {ldev}, NO_BYTES).result;
  }

  findImage(identity: string) {
    return methods.findImage(this.site, {identity}, NO_BYTES).result;
  }

  describePair(pair: number) {
    return methods.describePair(this.site, {pair}, NO_BYTES).result;
  }

  flushRvol(ldev: number): void {
    methods.flushRvol(this.site, {ldev}, NO_BYTES);
  }

  close(): void {
    this.site.close();
  }
}
