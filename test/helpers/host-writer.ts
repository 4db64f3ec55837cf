// A host that keeps writing while a pair copies (Fig. 15), run as its own process:
//   node dist/test/helpers/host-writer.js '<json HostWriterPlan>'
// Each write is placed relative to the copy pointer, which it reads under the site
// lock together with the write, so "behind", "ahead" and "across" are exact. After a
// write wholly behind the pointer it reads the R-VOL back, still under the lock, to
// prove the write is there while the pair is still in COPY. Prints a HostWriterReport.
import crypto from 'node:crypto';
import './transports.js';
import {LockTimeoutError} from '../../src/errors.js';
import {hostWrite} from '../../src/io/host-io.js';
import {PairBitmap} from '../../src/pair/bitmap.js';
import {Site} from '../../src/site/site.js';
import {waitForSync} from './wait.js';

export interface HostWriterPlan {
  primary: string;
  remote: string;
  mvol: number;
  rvol: number;
  pair: number;
  /** Writes to make while the pair is in COPY; the writer stops earlier if the copy ends. */
  writes: number;
  maxLength: number;
  /** Pause between writes, so the copier gets the lock too. */
  pauseMs: number;
  /** Where writes go: a third behind the pointer, a third ahead, a third across it; or all behind. */
  placement: 'mixed' | 'behind';
  /**
   * 'eager' retries the site lock every 50 µs, so this writer gets in between any two
   * copy batches (the race itself is the point); 'polite' waits the way `marklog write` does.
   */
  lock: 'eager' | 'polite';
}

export interface HostWriterReport {
  /** Writes made in COPY, by where they fell relative to the copy pointer. */
  behind: number;
  ahead: number;
  across: number;
  /** Behind-the-pointer writes whose bytes were not on the R-VOL right after the write. */
  behindMissingOnRvol: number;
  /** Writes of the plan left unmade because the pair had left COPY. */
  afterCopy: number;
  /** Longest time one write waited for the site lock, in ms (for the log: how long depends on the machine). */
  maxLockWaitMs: number;
  /** Distinct copy-pointer positions the writes made in COPY saw: each new one means a copy batch ran in between. */
  pointers: number;
  /** From the first write until the writer saw the pair leave COPY, in ms. */
  watchedMs: number;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms: number) => Atomics.wait(sleeper, 0, 0, ms);
const randomInt = (max: number) => crypto.randomInt(0, Math.max(1, max));

function waitForCopy(site: Site, pairNumber: number): void {
  waitForSync(() => {
    const pair = site.tables().pairs.find(p => p.pair === pairNumber);
    if (pair && pair.state !== 'COPY') throw new Error(`pair ${pairNumber} is already ${pair.state}`);
    return pair !== undefined;
  }, {what: `pair ${pairNumber} to appear in COPY`, everyMs: 5});
}

/** Takes the site lock by retrying flock every 50 µs, so it wins the gap between two copy batches. */
function lockEagerly(site: Site): void {
  const saved = process.env.MARKLOG_LOCK_TIMEOUT_MS;
  process.env.MARKLOG_LOCK_TIMEOUT_MS = '0';
  try {
    for (;;) {
      try {
        site.lock.acquire();
        return;
      } catch (error) {
        if (!(error instanceof LockTimeoutError)) throw error;
      }
      sleep(0.05);
    }
  } finally {
    if (saved === undefined) delete process.env.MARKLOG_LOCK_TIMEOUT_MS;
    else process.env.MARKLOG_LOCK_TIMEOUT_MS = saved;
  }
}

async function run(plan: HostWriterPlan): Promise<HostWriterReport> {
  const primary = Site.open(plan.primary);
  const remote = Site.open(plan.remote);
  const report: HostWriterReport = {behind: 0, ahead: 0, across: 0, behindMissingOnRvol: 0, afterCopy: 0, maxLockWaitMs: 0, pointers: 0, watchedMs: 0};
  const pointersSeen = new Set<number>();
  waitForCopy(primary, plan.pair);
  const capacity = primary.volume(primary.tables(), plan.mvol).capacity;
  const started = Date.now();
  for (let i = 0; i < plan.writes; i++) {
    const asked = Date.now();
    if (plan.lock === 'eager') lockEagerly(primary);
    else primary.lock.acquire();
    try {
      report.maxLockWaitMs = Math.max(report.maxLockWaitMs, Date.now() - asked);
      const tables = primary.tables();
      const pair = primary.pair(tables, plan.pair);
      if (pair.state !== 'COPY') {
        report.afterCopy = plan.writes - i;
        report.watchedMs = Date.now() - started;
        break;
      }
      const bitmap = PairBitmap.open(primary.path(pair.bitmap));
      const copied = Math.min(bitmap.copyPointer * bitmap.chunkSize, capacity);
      pointersSeen.add(bitmap.copyPointer);
      report.pointers = pointersSeen.size;
      bitmap.close();
      const length = 1 + randomInt(plan.maxLength);
      // A third each: anywhere behind the pointer, anywhere ahead, and right on it.
      let offset: number;
      const where = plan.placement === 'behind' ? 0 : i % 3;
      if (where === 0 && copied >= length) offset = randomInt(copied - length + 1);
      else if (where === 1 && capacity - copied >= length) offset = copied + randomInt(capacity - copied - length + 1);
      else offset = Math.min(capacity - length, Math.max(0, copied - randomInt(length)));
      const data = crypto.randomBytes(length);
      await hostWrite(primary, plan.mvol, offset, data);
      if (offset + length <= copied) {
        report.behind++;
        const onRvol = remote.volume(remote.tables(), plan.rvol);
        if (!remote.image(onRvol).read(offset, length).equals(data)) report.behindMissingOnRvol++;
      } else if (offset >= copied) report.ahead++;
      else report.across++;
    } finally {
      primary.lock.release();
    }
    sleep(plan.pauseMs);
  }
  if (report.watchedMs === 0) report.watchedMs = Date.now() - started;
  primary.close();
  remote.close();
  return report;
}

process.stdout.write(`${JSON.stringify(await run(JSON.parse(process.argv[2]) as HostWriterPlan))}\n`);
