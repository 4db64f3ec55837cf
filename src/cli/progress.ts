// A progress bar on stderr, drawn only when stderr is a terminal.
import {formatBytes} from '../util/units.js';
import type {CopyProgress} from '../pair/copy.js';

export function copyProgressBar(enabled: boolean): {update: (progress: CopyProgress) => void; done: () => void} {
  const tty = enabled && process.stderr.isTTY;
  let drawn = false;
  let last = 0;
  return {
    update(progress) {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      const ratio = progress.total === 0 ? 1 : progress.done / progress.total;
      const width = 30;
      const filled = Math.round(ratio * width);
      process.stderr.write(`\rpair ${progress.pair} copy [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(1)}%  ${formatBytes(progress.copiedBytes)} sent `);
      drawn = true;
    },
    done() {
      if (drawn) process.stderr.write('\r\x1b[K');
    },
  };
}
