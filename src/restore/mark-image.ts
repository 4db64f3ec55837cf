// Read-only access to a volume as it was at a mark, without restoring it (issue 14,
// item 4; "virtual image access"): the restore's plan — which log bytes are each
// byte's last writer before the mark — resolved at every read, the rest read from
// the base image. Opening checks the log up to the mark as a restore does; a read
// after the base or the log has moved on (an apply, a resync) fails rather than
// mixing two states.
import {BaseMismatchError, OutOfRangeError} from '../errors.js';
import {Journal} from '../log/journal.js';
import {findGroup} from '../log/remote-log.js';
import {refuseUnfinishedTakeover} from '../takeover/intent.js';
import type {Site} from '../site/site.js';
import type {VolumeImage} from '../volume/image.js';
import type {ExtentColumns} from './final-extents.js';
import {checkBase, checkRecordsBefore, chooseMark, type LocatedMark} from './locate.js';
import {finalExtents} from './replay.js';
import {LogScan, ZEROS} from './scan.js';

export class MarkImage {
  private constructor(
    private readonly site: Site,
    readonly group: number,
    readonly mark: LocatedMark,
    readonly rvol: number,
    readonly capacity: number,
    private readonly base: VolumeImage,
    private readonly logs: Map<number, VolumeImage>,
    private readonly extents: ExtentColumns,
    private readonly generations: {base: number; rvol: number},
  ) {}

  /** One image per R-VOL of the group (or the one named) at mark `markId`. */
  static open(site: Site, options: {group: number; markId: number; rvol?: number}): MarkImage[] {
    return site.lock.run(() => {
      const tables = site.tables();
      const group = findGroup(site, tables, options.group);
      refuseUnfinishedTakeover(site.dir, group, 'a mark export');
      const journal = Journal.open(site, tables, group);
      // Every record's data up to the mark is checked once here; reads then copy it as it is.
      const scan = LogScan.of(journal, {untilMark: options.markId});
      try {
        const mark = chooseMark(scan, {markId: options.markId});
        checkBase(site, tables, group, journal);
        checkRecordsBefore(scan, mark.logId, `mark ${mark.markId}`);
        const members = group.members.map(m => m.rvol).filter(rvol => options.rvol === undefined || rvol === options.rvol);
        if (members.length === 0) throw new OutOfRangeError(`R-VOL LDEV ${options.rvol} is not in log group ${options.group}`);
        const logs = new Map(journal.volumes.map(v => [v.header.ldev, v.image]));
        return members.map(rvol => {
          const row = site.volume(tables, rvol);
          return new MarkImage(site, options.group, mark, rvol, row.capacity, site.image(row), logs, finalExtents(scan, mark.logId, rvol),
            {base: group.baseGeneration, rvol: row.generation});
        });
      } finally {
        scan.dispose();
      }
    });
  }

  /** The bytes [offset, offset + length) of the volume at the mark. */
  read(offset: number, length: number): Buffer {
    if (offset < 0 || length < 0 || offset + length > this.capacity) throw new OutOfRangeError(`[${offset}, ${offset + length}) is outside R-VOL ${this.rvol} (${this.capacity} bytes)`);
    const out = Buffer.allocUnsafe(length);
    this.base.readInto(offset, out, length);
    const {start, end, logLdev, source} = this.extents;
    const stop = offset + length;
    for (let i = this.firstEndingAfter(offset); i < this.extents.count && start[i] < stop; i++) {
      const from = Math.max(start[i], offset);
      const to = Math.min(end[i], stop);
      const into = out.subarray(from - offset, to - offset);
      if (logLdev[i] === ZEROS) into.fill(0);
      else this.logs.get(logLdev[i])!.readInto(source[i] + (from - start[i]), into, to - from);
    }
    this.checkUnchanged();
    return out;
  }

  /** The first extent ending after `offset` (extents are disjoint and ascending). */
  private firstEndingAfter(offset: number): number {
    let [low, high] = [0, this.extents.count];
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.extents.end[mid] <= offset) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** An apply or a resync bumps a generation before it changes a byte: checked after reading, so a changed read is never returned. */
  private checkUnchanged(): void {
    const tables = this.site.view();
    const group = findGroup(this.site, tables, this.group);
    if (group.baseGeneration !== this.generations.base || group.applying || this.site.volume(tables, this.rvol).generation !== this.generations.rvol) {
      throw new BaseMismatchError(`log group ${this.group} changed (an apply or a resync) while mark ${this.mark.markId} was served; serve the mark again`);
    }
  }
}
