// A long-lived writer: what a block-device front end (docs/ARCHITECTURE.md), a loader or the
// benchmark uses to send many host writes. Each write is an ordinary hostWrite with
// the same guarantees; what changes is that the site locks it took stay held for a
// short while afterwards, so a burst of writes pays for no lock, table, bitmap or
// log-header reads. Other processes (a cron mark, an admin command) get the locks
// within `holdMs`, or as soon as this process's event loop turns.
import {endLingering, lingeringUntilSettled} from '../util/lock.js';
import {hostWrite, type HostWriteOptions, type HostWriteResult} from './host-io.js';
import type {Site} from '../site/site.js';

export const DEFAULT_HOLD_MS = 20;

export interface HostWriterOptions {
  /** How long the locks may stay held after a write while more writes come (ms). */
  holdMs?: number;
}

export class HostWriter {
  readonly holdMs: number;

  constructor(readonly site: Site, options: HostWriterOptions = {}) {
    this.holdMs = options.holdMs ?? DEFAULT_HOLD_MS;
  }

  /** One write; await it before the next (the locks' hold bound is the process's while it is under way). */
  write(ldev: number, offset: number, data: Uint8Array, options: HostWriteOptions = {}): Promise<HostWriteResult> {
    return lingeringUntilSettled(this.holdMs, () => hostWrite(this.site, ldev, offset, data, options));
  }

  /**
   * Lets go of the locks now. Call it before waiting on another marklog process
   * synchronously (spawnSync): the locks would otherwise be held until the event
   * loop turns, and that process would wait for them.
   */
  release(): void {
    endLingering();
  }
}
