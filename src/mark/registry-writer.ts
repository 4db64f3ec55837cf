// Appending to the host mark registry journal (docs/FORMAT.md §6.4). The caller
// holds the site lock, so one writer at a time. A mark reads the header and the
// journal's last lines only and appends two small events, each made durable before
// the mark moves on: the cost stays the same at the 10th mark and the 100,000th.
// Nothing on disk changes before the first append, so a mark refused once it knows
// its ID (none left, §6.3) leaves the registry exactly as it found it.
import fs from 'node:fs';
import {CorruptTablesError} from '../errors.js';
import {COMPACT_SLACK, decodeEvent, encodeEvent, type HostMarksEvent} from '../format/host-marks-format.js';
import {REPAIR_HINT, dropLegacy, loadRegistry, registryPath, rewriteRegistry, type GroupMarks} from './host-registry.js';
import type {HostMark} from '../site/tables.js';

/** Read from the end first; enough for the last few hundred events. */
const TAIL_WINDOW = 64 * 1024;
const HEADER_MAX = 4096;

interface Line {
  start: number;
  event: HostMarksEvent;
}

export class RegistryWriter {
  private readonly file: string;
  private fd = -1;
  private size = 0;
  private compacted = 0;
  private headEnd = 0;
  /** With no journal yet: the groups of host-marks.json (or none), which the first append writes as the journal (§6.5). */
  private legacy: Record<string, GroupMarks> | null = null;
  /** Whether the first append has readied the file (journal created or leftover host-marks.json dropped, torn tail cut). */
  private ready = false;

  private constructor(private readonly siteDir: string) {
    this.file = registryPath(siteDir);
    if (fs.existsSync(this.file)) this.openJournal();
    else this.legacy = loadRegistry(siteDir).groups;
  }

  /** Opens the registry for appending; the journal is created (from host-marks.json, if there is one) by the first append. */
  static open(siteDir: string): RegistryWriter {
    return new RegistryWriter(siteDir);
  }

  /** The group's next mark ID: from its latest "spent" event. */
  next(group: number): number {
    if (this.legacy) return this.legacy[String(group)]?.next ?? 1;
    let next = 1;
    this.scanBack(line => {
      if (line.event.e !== 'spent' || line.event.group !== group) return false;
      next = line.event.next;
      return true;
    });
    return next;
  }

  /** Makes every ID below `next` spent in the group, durably, before any of them is sent. */
  spend(group: number, next: number): void {
    this.append({e: 'spent', group, next});
  }

  /** Records a mark the remote acknowledged. */
  record(group: number, mark: HostMark): void {
    this.append({e: 'mark', group, markId: mark.markId, logId: mark.logId, time: mark.time, app: mark.app});
  }

  /**
   * Rewrites the journal as its snapshot once it has doubled since the last time, so
   * that the rewrite costs O(1) per mark on average. The marks are already durable;
   * a failure here only leaves the journal longer, so it is a warning.
   */
  compactIfDue(): string[] {
    if (this.size <= 2 * this.compacted + COMPACT_SLACK) return [];
    try {
      rewriteRegistry(this.siteDir, loadRegistry(this.siteDir).groups);
      return [];
    } catch (error) {
      return [`the host mark registry ${this.file} was not compacted: ${(error as Error).message}`];
    }
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }

  private append(event: HostMarksEvent): void {
    if (!this.ready) this.prepareFirstAppend();
    const line = encodeEvent(event);
    fs.writeSync(this.fd, line, 0, line.length, this.size);
    fs.fdatasyncSync(this.fd);
    this.size += line.length;
  }

  private openJournal(): void {
    this.fd = fs.openSync(this.file, 'r+');
    this.size = fs.fstatSync(this.fd).size;
    const head = Buffer.alloc(Math.min(HEADER_MAX, this.size));
    fs.readSync(this.fd, head, 0, head.length, 0);
    const end = head.indexOf(0x0a);
    const event = end < 0 ? undefined : decodeEvent(head.subarray(0, end));
    if (!event || 'reason' in event || event.e !== 'head') {
      this.close();
      throw this.damaged(0, 'no header');
    }
    this.compacted = event.compacted;
    this.headEnd = end + 1;
  }

  /** §6.5: the journal replaces host-marks.json (written from it, or the leftover beside it dropped); §6.4: a torn last line is cut. */
  private prepareFirstAppend(): void {
    if (this.legacy) {
      rewriteRegistry(this.siteDir, this.legacy);
      this.legacy = null;
      this.openJournal();
    } else {
      dropLegacy(this.siteDir);
    }
    this.cutTornTail();
    this.ready = true;
  }

  /** §6.4: an append that never completed leaves one bad last line at most; the next append starts where it began. */
  private cutTornTail(): void {
    let validEnd = this.size;
    this.scanBack(() => true, tornAt => {
      validEnd = tornAt;
    });
    if (validEnd === this.size) return;
    fs.ftruncateSync(this.fd, validEnd);
    fs.fdatasyncSync(this.fd);
    this.size = validEnd;
  }

  /**
   * Visits the complete events after the header from the last one back, until
   * `visit` returns true. The last line may be torn (reported to `onTorn` with the
   * offset it starts at); any other bad line is corruption, as replay() has it.
   */
  private scanBack(visit: (line: Line) => boolean, onTorn?: (start: number) => void): void {
    for (let window = TAIL_WINDOW; ; window *= 4) {
      const from = Math.max(this.headEnd, this.size - window);
      const bytes = Buffer.alloc(this.size - from);
      fs.readSync(this.fd, bytes, 0, bytes.length, from);
      // A window that starts mid-line: that first piece belongs to a line further back.
      const firstNewline = bytes.indexOf(0x0a);
      if (from > this.headEnd && firstNewline < 0) continue;
      const lines: {start: number; end: number}[] = [];
      for (let at = from === this.headEnd ? 0 : firstNewline + 1; at < bytes.length;) {
        const end = bytes.indexOf(0x0a, at);
        lines.push({start: at, end});
        if (end < 0) break;
        at = end + 1;
      }
      for (let i = lines.length - 1; i >= 0; i--) {
        const {start, end} = lines[i];
        const event = end < 0 ? {reason: 'incomplete line'} : decodeEvent(bytes.subarray(start, end));
        if ('reason' in event) {
          if (i !== lines.length - 1) throw this.damaged(from + start, event.reason);
          onTorn?.(from + start);
          continue;
        }
        if (event.e === 'head') throw this.damaged(from + start, 'a second header');
        if (visit({start: from + start, event})) return;
      }
      if (from === this.headEnd) return;
    }
  }

  private damaged(offset: number, why: string): CorruptTablesError {
    return new CorruptTablesError(`${this.file}: the host mark registry is damaged at byte ${offset} (${why})`, REPAIR_HINT);
  }
}
