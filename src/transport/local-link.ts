// The link to a remote site that is a directory on this machine. It calls the
// remote's method table (src/endpoint/methods.ts) directly, as the agent does for a
// request off the wire, with the same arguments but without encoding them; only two
// methods keep a fast path that needs the far side on the same machine:
// writeRvolFrom (copy_file_range from the M-VOL's image) and receiveImage (the
// image file itself, cloned).
//
// Calls are done one at a time, in the order they were made, as the agent answers
// a connection's requests: a call made while another is still under way (a
// replicated write cascading to the remote's own pairs awaits its own link) waits
// for it, so each call sees the remote as the ones before it left it.
import {SiteNotFoundError, WrongRoleError} from '../errors.js';
import {withRetries} from './retries.js';
import {Site} from '../site/site.js';
import {methods, entriesToWire, type Answer} from '../endpoint/methods.js';
import {NO_BYTES} from '../endpoint/args.js';
import {hello, writeVolumeFrom} from '../endpoint/volumes.js';
import {receiveImage} from '../endpoint/receive-image.js';
import type {LinkRow, LogGap, LoggedGap, RvolClaim} from '../site/tables.js';
import type {HandedOver, RemoteIdentity, ReservedVolume, SiteLink} from '../site/link.js';
import type {AppendResult, PrepareRequest, PreparedGroup} from '../log/remote-log.js';
import type {NewEntry} from '../log/journal.js';
import type {VolumeImage} from '../volume/image.js';
import type {LoggedMark} from '../mark/remote-marks.js';

/** Opens the remote site, retrying briefly: a remote that is missing for a moment is not yet an error. */
export function reachRemote(dir: string): Promise<Site> {
  return withRetries(async () => Site.open(dir), {
    address: dir,
    retryable: error => error instanceof SiteNotFoundError,
    hint: () => 'check that the remote directory is mounted and is a marklog site',
  });
}

export class LocalDirectoryLink implements SiteLink {
  readonly remote: RemoteIdentity;
  /** Settles when the last call made has: the next one starts after it. Unset while none is under way. */
  private last: Promise<unknown> | undefined;

  private constructor(private readonly site: Site) {
    this.remote = hello(site);
  }

  /** A link to whatever site is at `dir` now: for the first contact, before its id is known. */
  static async probe(dir: string): Promise<LocalDirectoryLink> {
    return new LocalDirectoryLink(await reachRemote(dir));
  }

  static async connect(row: LinkRow): Promise<LocalDirectoryLink> {
    const link = new LocalDirectoryLink(await reachRemote(row.remote));
    if (link.remote.id !== row.siteId) {
      link.close();
      throw new WrongRoleError(`the directory ${row.remote} now holds site ${link.remote.name} (${link.remote.id}), not the linked site ${row.name}`);
    }
    return link;
  }

  /**
   * Runs one call after those before it. With none under way it runs at once, so a
   * call that needs no await is done before this returns, as it was when the link
   * was synchronous.
   */
  private call<T>(work: () => T | Promise<T>): Promise<T> {
    if (this.last) return this.after(this.last.then(work));
    let result: T | Promise<T>;
    try {
      result = work();
    } catch (error) {
      return Promise.reject(error);
    }
    return result instanceof Promise ? this.after(result) : Promise.resolve(result);
  }

  /** Makes `pending` the call the next one waits for, until it settles. */
  private after<T>(pending: Promise<T>): Promise<T> {
    const settled = pending.then(() => undefined, () => undefined);
    this.last = settled;
    void settled.then(() => {
      if (this.last === settled) this.last = undefined;
    });
    return pending;
  }

  private result<R>(answer: () => Answer<R> | Promise<Answer<R>>): Promise<R> {
    return this.call(answer).then(({result}) => result);
  }

  private done(answer: () => Answer<unknown> | Promise<Answer<unknown>>): Promise<void> {
    return this.call(answer).then(() => undefined);
  }

  registerPeer(peer: LinkRow): Promise<void> {
    return this.done(() => methods.registerPeer(this.site, {peer}, NO_BYTES));
  }

  reserveRvol(ldev: number, claim: RvolClaim, minCapacity: number): Promise<ReservedVolume> {
    return this.result(() => methods.reserveRvol(this.site, {ldev, claim, minCapacity}, NO_BYTES));
  }

  releaseRvol(ldev: number, claim: RvolClaim, options: {force?: boolean} = {}): Promise<{leftGroup: number | null}> {
    return this.result(() => methods.releaseRvol(this.site, {ldev, claim, options}, NO_BYTES));
  }

  writeRvol(ldev: number, offset: number, data: Uint8Array): Promise<void> {
    return this.done(() => methods.writeRvol(this.site, {ldev, offset}, [data]));
  }

  /** The fast path: the source image is on this machine, so the copy stays in the kernel (copy_file_range). */
  writeRvolFrom(ldev: number, offset: number, length: number, source: VolumeImage): Promise<void> {
    return this.call(() => writeVolumeFrom(this.site, ldev, offset, length, source));
  }

  zeroRvol(ldev: number, offset: number, length: number): Promise<void> {
    return this.done(() => methods.zeroRvol(this.site, {ldev, offset, length}, NO_BYTES));
  }

  readRvol(ldev: number, offset: number, length: number): Promise<Buffer> {
    return this.call(() => methods.readRvol(this.site, {ldev, offset, length}, NO_BYTES)).then(({data}) => data!);
  }

  prepareLogGroup(request: PrepareRequest): Promise<PreparedGroup> {
    return this.result(() => methods.prepareLogGroup(this.site, {request}, NO_BYTES));
  }

  appendToLog(group: number, entries: NewEntry[]): Promise<AppendResult> {
    return this.result(() => {
      const wire = entriesToWire(entries);
      return methods.appendToLog(this.site, {group, entries: wire.entries}, wire.data);
    });
  }

  stopLogGroup(group: number): Promise<void> {
    return this.done(() => methods.stopLogGroup(this.site, {group}, NO_BYTES));
  }

  recordLogGap(gap: LogGap): Promise<LoggedGap> {
    return this.result(() => methods.recordLogGap(this.site, {gap}, NO_BYTES));
  }

  listMarks(group: number): Promise<LoggedMark[]> {
    return this.result(() => methods.listMarks(this.site, {group}, NO_BYTES));
  }

  /** The fast path: the image file is on this machine, so it is cloned in-kernel instead of sent as extents. */
  receiveImage(ldev: number, imageFile: string, force: boolean): Promise<void> {
    return this.call(() => receiveImage(this.site, ldev, imageFile, force));
  }

  readDirtyRanges(ldev: number, claim: RvolClaim): Promise<HandedOver> {
    return this.result(() => methods.readDirtyRanges(this.site, {ldev, claim}, NO_BYTES));
  }

  forgetDirtyRanges(ldev: number, claim: RvolClaim, token: number): Promise<void> {
    return this.done(() => methods.forgetDirtyRanges(this.site, {ldev, claim, token}, NO_BYTES));
  }

  setDirection(ldev: number, claim: RvolClaim, direction: 'forward' | 'reverse'): Promise<HandedOver> {
    return this.result(() => methods.setDirection(this.site, {ldev, claim, direction}, NO_BYTES));
  }

  describeVolume(ldev: number) {
    return this.result(() => methods.describeVolume(this.site, {ldev}, NO_BYTES));
  }

  findImage(identity: string) {
    return this.result(() => methods.findImage(this.site, {identity}, NO_BYTES));
  }

  describePair(pair: number) {
    return this.result(() => methods.describePair(this.site, {pair}, NO_BYTES));
  }

  flushRvol(ldev: number): Promise<void> {
    return this.done(() => methods.flushRvol(this.site, {ldev}, NO_BYTES));
  }

  close(): void {
    this.site.close();
  }
}
