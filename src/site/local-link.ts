// The link to a remote site that is a directory on this machine.
import {RemoteUnreachableError, SiteNotFoundError, WrongRoleError} from '../errors.js';
import {Site} from './site.js';
import * as endpoint from './remote-endpoint.js';
import * as failback from './remote-failback.js';
import {volumeWithImage} from './same-image.js';
import type {HandedOver} from './remote-failback.js';
import type {LinkRow, LogGap, LoggedGap, RvolClaim} from './tables.js';
import type {RemoteIdentity, ReservedVolume, SiteLink} from './link.js';
import {appendToLog, prepareLogGroup, recordLogGap, type AppendResult, type PrepareRequest, type PreparedGroup} from '../log/remote-log.js';
import type {NewEntry} from '../log/journal.js';
import type {VolumeImage} from '../volume/image.js';
import {stopLogAtRemote} from '../log/log-admin.js';
import {marksInLog, type LoggedMark} from '../mark/remote-marks.js';

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
    this.remote = endpoint.hello(site);
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
    endpoint.registerPeer(this.site, peer);
  }

  reserveRvol(ldev: number, claim: RvolClaim, minCapacity: number): ReservedVolume {
    return endpoint.reserveRvol(this.site, ldev, claim, minCapacity);
  }

  releaseRvol(ldev: number, claim: RvolClaim, options: {force?: boolean} = {}): {leftGroup: number | null} {
    return endpoint.releaseRvol(this.site, ldev, claim, options);
  }

  writeRvol(ldev: number, offset: number, data: Uint8Array): void {
    endpoint.writeVolume(this.site, ldev, offset, data);
  }

  writeRvolFrom(ldev: number, offset: number, length: number, source: VolumeImage): void {
    endpoint.writeVolumeFrom(this.site, ldev, offset, length, source);
  }

  zeroRvol(ldev: number, offset: number, length: number): void {
    endpoint.zeroVolume(this.site, ldev, offset, length);
  }

  readRvol(ldev: number, offset: number, length: number): Buffer {
    return endpoint.readVolume(this.site, ldev, offset, length);
  }

  prepareLogGroup(request: PrepareRequest): PreparedGroup {
    return prepareLogGroup(this.site, request);
  }

  appendToLog(group: number, entries: NewEntry[]): AppendResult {
    return appendToLog(this.site, group, entries);
  }

  stopLogGroup(group: number): void {
    stopLogAtRemote(this.site, group);
  }

  recordLogGap(gap: LogGap): LoggedGap {
    return recordLogGap(this.site, gap);
  }

  listMarks(group: number): LoggedMark[] {
    return marksInLog(this.site, group);
  }

  receiveImage(ldev: number, imageFile: string, force: boolean): void {
    endpoint.receiveImage(this.site, ldev, imageFile, force);
  }

  readDirtyRanges(ldev: number, claim: RvolClaim): HandedOver {
    return failback.readDirtyRanges(this.site, ldev, claim);
  }

  forgetDirtyRanges(ldev: number, claim: RvolClaim, token: number): void {
    failback.forgetDirtyRanges(this.site, ldev, claim, token);
  }

  setDirection(ldev: number, claim: RvolClaim, direction: 'forward' | 'reverse'): HandedOver {
    return failback.setDirection(this.site, ldev, claim, direction);
  }

  describeVolume(ldev: number) {
    return endpoint.describeVolume(this.site, ldev);
  }

  findImage(identity: string) {
    return volumeWithImage(this.site, this.site.tables(), identity);
  }

  describePair(pair: number) {
    return endpoint.describePair(this.site, pair);
  }

  flushRvol(ldev: number): void {
    endpoint.flushVolume(this.site, ldev);
  }

  close(): void {
    this.site.close();
  }
}
