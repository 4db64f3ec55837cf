// The collector's young generation starts at 1 MiB a semi-space and doubles while
// much survives, up to 16 MiB (48 MiB of RSS with its copies). A replay of a long
// log allocates a little per extent for minutes, and the young generation grew to
// its maximum although less than 8 MiB was ever live: at 1,000,000 records that was
// much of a restore's peak RSS beyond Node's own ~44 MiB (docs/PERFORMANCE.md,
// "Restore memory at 1,000,000 records").
// Commands that replay a log keep it at its starting size; scavenges of a small live
// set stay cheap (measured: no slower restore).
import v8 from 'node:v8';

let applied = false;

export function keepYoungGenerationSmall(): void {
  if (applied) return;
  applied = true;
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  v8.setFlagsFromString('--heap-growing-percent=10');
}
