// Calls the function behind `marklog pair display` in a tight loop while a pair copies,
// as a monitoring script would, and counts how each call ended:
//   node dist/test/helpers/display-poller.js <site> <pair>
// Waits for the pair to appear (up to a generous bound), polls until it leaves COPY,
// then prints a DisplayPollReport.
import {MarklogError} from '../../src/errors.js';
import {displayPairs} from '../../src/pair/pair-display.js';
import {Site} from '../../src/site/site.js';
import {waitForSync} from './wait.js';

export interface DisplayPollReport {
  /** Calls that saw the pair in COPY. */
  inCopy: number;
  /** Calls that failed, by error code. */
  failures: Record<string, number>;
  /** Every copyProgress value seen went up or stayed. */
  monotonic: boolean;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

function poll(dir: string, pairNumber: number): DisplayPollReport {
  const site = Site.open(dir);
  const report: DisplayPollReport = {inCopy: 0, failures: {}, monotonic: true};
  waitForSync(() => site.tables().pairs.some(p => p.pair === pairNumber), {what: `pair ${pairNumber} to appear in ${dir}`});
  let last = -1;
  for (;;) {
    try {
      const [view] = displayPairs(site, pairNumber);
      if (view.state !== 'COPY') return report;
      report.inCopy++;
      if (view.copyProgress < last) report.monotonic = false;
      last = view.copyProgress;
    } catch (error) {
      const code = error instanceof MarklogError ? error.code : String(error);
      report.failures[code] = (report.failures[code] ?? 0) + 1;
    }
    Atomics.wait(sleeper, 0, 0, 1);
  }
}

process.stdout.write(`${JSON.stringify(poll(process.argv[2], Number(process.argv[3])))}\n`);
