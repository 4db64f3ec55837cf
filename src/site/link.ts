// The communication path between a primary and its remote (patent: path 6). The
// primary reaches its remote only through this interface, so a network transport
// can replace the local-directory one without touching pairs or host I/O.
import type {LinkRow, PairDirection, PairState, LogGap, LoggedGap, RvolClaim, SiteRole} from './tables.js';
import type {VolumeImage} from '../volume/image.js';
import type {AppendResult, PrepareRequest, PreparedGroup} from '../log/remote-log.js';
import type {NewEntry} from '../log/journal.js';
import type {LoggedMark} from '../mark/remote-marks.js';
import type {HandedOver} from '../endpoint/failback.js';

export interface RemoteIdentity {
  id: string;
  name: string;
  role: SiteRole;
}

export interface ReservedVolume {
  ldev: number;
  id: string;
  capacity: number;
}

export interface SiteLink {
  readonly remote: RemoteIdentity;
  /** Tells the far site how to reach this one back. */
  registerPeer(peer: LinkRow): void;
  /** Checks the R-VOL can serve the claim (exists, unused, large enough) and reserves it. */
  reserveRvol(ldev: number, claim: RvolClaim, minCapacity: number): ReservedVolume;
  /**
   * Gives the R-VOL back. Refused while it is the base of a log group's log, unless
   * forced: then it leaves the group, and the group it left is returned.
   */
  releaseRvol(ldev: number, claim: RvolClaim, options?: {force?: boolean}): {leftGroup: number | null};
  /** A replicated write; the remote passes it on to its own pairs (cascade). */
  writeRvol(ldev: number, offset: number, data: Uint8Array): void;
  /** A replicated write of a range of a local image (the initial copy and resync): in-kernel where the transport can. */
  writeRvolFrom(ldev: number, offset: number, length: number, source: VolumeImage): void;
  /** Makes a range of the R-VOL read as zeros (holes of a sparse M-VOL). */
  zeroRvol(ldev: number, offset: number, length: number): void;
  readRvol(ldev: number, offset: number, length: number): Buffer;
  /** Fig. 17: prepare a log group at the remote and switch it into log mode. */
  prepareLogGroup(request: PrepareRequest): PreparedGroup;
  /** Appends write or mark records to a group's log; returns their log IDs and any capacity warnings. */
  appendToLog(group: number, entries: NewEntry[]): AppendResult;
  stopLogGroup(group: number): void;
  /** A write of the group never reached its log: the log records it (the earliest stays) and says where it sits. */
  recordLogGap(gap: LogGap): LoggedGap;
  listMarks(group: number): LoggedMark[];
  /**
   * Overwrites a volume at the far site with a complete image (restore onto an
   * M-VOL, claim 4). Its pairs stop logging and mark every chunk for resync.
   */
  receiveImage(ldev: number, imageFile: string, force: boolean): void;
  /**
   * Failback, first phase: what hosts changed on a taken-over R-VOL and this side has
   * not confirmed yet, with a token. The remote keeps the ranges until forgetDirtyRanges.
   */
  readDirtyRanges(ldev: number, claim: RvolClaim): HandedOver;
  /** Failback, second phase: the ranges of `token` are on stable storage here; the remote lets exactly those go. */
  forgetDirtyRanges(ldev: number, claim: RvolClaim, token: number): void;
  /**
   * Failback's last step ('reverse': the R-VOL becomes the source; hands over the
   * last ranges like readDirtyRanges) and its undoing ('forward').
   */
  setDirection(ldev: number, claim: RvolClaim, direction: 'forward' | 'reverse'): HandedOver;
  /** The far site's record of one of its volumes (null when it has none). */
  describeVolume(ldev: number): {ldev: number; capacity: number; reserve: string; rvolOf: RvolClaim | null} | null;
  /** The far site's volume whose image is the file with this identity (device and inode), if any. */
  findImage(identity: string): {site: string; ldev: number} | null;
  /** The far site's pair row, as the remote's own view asks its primary (null when it has none). */
  describePair(pair: number): {pair: number; state: PairState; direction: PairDirection; mvol: number} | null;
  /** Forces an R-VOL and its group's log to stable storage. */
  flushRvol(ldev: number): void;
  close(): void;
}
