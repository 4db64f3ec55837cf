// The communication path between a primary and its remote (patent: path 6). The
// primary reaches its remote only through this interface, so a network transport
// can replace the local-directory one without touching pairs or host I/O. Every
// call is asynchronous: a transport may send many before the first is answered
// (link-opener.ts opens the link; src/transport/ holds the transports).
import type {LinkRow, PairDirection, PairState, LogGap, LoggedGap, RvolClaim, SiteRole} from './tables.js';
import type {ByteRange} from './remote-endpoint.js';
import type {VolumeImage} from '../volume/image.js';
import type {AppendResult, PrepareRequest, PreparedGroup} from '../log/remote-log.js';
import type {NewEntry} from '../log/journal.js';
import type {LoggedMark} from '../mark/remote-marks.js';

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

/** Ranges handed to the primary in failback, held at the remote until it confirms `token` (forgetDirtyRanges). */
export interface HandedOver {
  token: number;
  ranges: ByteRange[];
}

/**
 * Calls made one after another are done at the remote in that order, whether or
 * not the caller awaited the earlier ones; a failed call does not stop later ones.
 */
export interface SiteLink {
  readonly remote: RemoteIdentity;
  /** Tells the far site how to reach this one back. */
  registerPeer(peer: LinkRow): Promise<void>;
  /** Checks the R-VOL can serve the claim (exists, unused, large enough) and reserves it. */
  reserveRvol(ldev: number, claim: RvolClaim, minCapacity: number): Promise<ReservedVolume>;
  /**
   * Gives the R-VOL back. Refused while it is the base of a log group's log, unless
   * forced: then it leaves the group, and the group it left is returned.
   */
  releaseRvol(ldev: number, claim: RvolClaim, options?: {force?: boolean}): Promise<{leftGroup: number | null}>;
  /** A replicated write; the remote passes it on to its own pairs (cascade). */
  writeRvol(ldev: number, offset: number, data: Uint8Array): Promise<void>;
  /**
   * A replicated write of a range of a local image (the initial copy and resync).
   * A network transport reads the range's bytes from `source` and sends them; the
   * local one copies in-kernel. `source` is not written meanwhile.
   */
  writeRvolFrom(ldev: number, offset: number, length: number, source: VolumeImage): Promise<void>;
  /** Makes a range of the R-VOL read as zeros (holes of a sparse M-VOL). */
  zeroRvol(ldev: number, offset: number, length: number): Promise<void>;
  readRvol(ldev: number, offset: number, length: number): Promise<Buffer>;
  /** Fig. 17: prepare a log group at the remote and switch it into log mode. */
  prepareLogGroup(request: PrepareRequest): Promise<PreparedGroup>;
  /** Appends write or mark records to a group's log; returns their log IDs and any capacity warnings. */
  appendToLog(group: number, entries: NewEntry[]): Promise<AppendResult>;
  stopLogGroup(group: number): Promise<void>;
  /** A write of the group never reached its log: the log records it (the earliest stays) and says where it sits. */
  recordLogGap(gap: LogGap): Promise<LoggedGap>;
  listMarks(group: number): Promise<LoggedMark[]>;
  /**
   * Overwrites a volume at the far site with a complete image (restore onto an
   * M-VOL, claim 4). Its pairs stop logging and mark every chunk for resync.
   * `imageFile` is a file on the caller's machine: a network transport sends its
   * contents; the local one clones it.
   */
  receiveImage(ldev: number, imageFile: string, force: boolean): Promise<void>;
  /**
   * Failback, first phase: what hosts changed on a taken-over R-VOL and this side has
   * not confirmed yet, with a token. The remote keeps the ranges until forgetDirtyRanges.
   */
  readDirtyRanges(ldev: number, claim: RvolClaim): Promise<HandedOver>;
  /** Failback, second phase: the ranges of `token` are on stable storage here; the remote lets exactly those go. */
  forgetDirtyRanges(ldev: number, claim: RvolClaim, token: number): Promise<void>;
  /**
   * Failback's last step ('reverse': the R-VOL becomes the source; hands over the
   * last ranges like readDirtyRanges) and its undoing ('forward').
   */
  setDirection(ldev: number, claim: RvolClaim, direction: 'forward' | 'reverse'): Promise<HandedOver>;
  /** The far site's record of one of its volumes (null when it has none). */
  describeVolume(ldev: number): Promise<{ldev: number; capacity: number; reserve: string; rvolOf: RvolClaim | null} | null>;
  /** The far site's volume whose image is the file with this identity (device and inode), if any. */
  findImage(identity: string): Promise<{site: string; ldev: number} | null>;
  /** The far site's pair row, as the remote's own view asks its primary (null when it has none). */
  describePair(pair: number): Promise<{pair: number; state: PairState; direction: PairDirection; mvol: number} | null>;
  /** Forces an R-VOL and its group's log to stable storage. */
  flushRvol(ldev: number): Promise<void>;
  close(): void;
}
