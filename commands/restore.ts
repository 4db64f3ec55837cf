import {flag, defineCommand} from '../src/cli/command-spec.js';
import {siteFlag, groupFlag} from '../src/cli/flags.js';
import {Site} from '../src/site/site.js';
import {parseTarget, restoreToMark, type RestoreResult} from '../src/restore/restore.js';
import {parseTimestamp} from '../src/util/time.js';
import {formatBytes} from '../src/util/units.js';
import {keepYoungGenerationSmall} from '../src/util/heap.js';

export default defineCommand({
  summary: 'Rebuild volumes as they were at a mark: base + every logged write before it (Fig. 23).',
  description: 'Targets: a new image file (written under a temporary name, renamed when complete), an unused LDEV at this site (ldev:N), the R-VOLs in place (rvol, needs --force: it consumes the log up to the mark), or the M-VOLs at the primary (mvol, needs --force: the group stops logging and the pairs need a full resync). Without --rvol every volume of the group is restored to the same mark. The log and tables are kept after a restore to another target.',
  examples: [
    '# see what a restore would do\n<%= config.bin %> restore --site /srv/marklog/osaka --group 1 --mark 42 --rvol 3 --to /restore/db-at-42.img --dry-run',
    '# rebuild LDEV 3 as of mark 42 into a new image file\n<%= config.bin %> restore --site /srv/marklog/osaka --group 1 --mark 42 --rvol 3 --to /restore/db-at-42.img',
    '# the last mark before the incident\n<%= config.bin %> restore --site /srv/marklog/osaka --group 1 --time 2026-11-25T03:10:00Z --rvol 3 --to ldev:9',
  ],
  flags: {
    site: siteFlag,
    group: groupFlag(true),
    mark: flag.integer({summary: 'Mark ID to restore to.', min: 0, exclusive: ['time']}),
    time: flag.string({summary: 'Restore to the last mark at or before this time (ISO 8601; without a zone offset it is UTC, as `mark list` prints).', exclusive: ['mark']}),
    rvol: flag.integer({summary: 'Only this R-VOL (LDEV at this site).', min: 0}),
    to: flag.string({summary: 'rvol (in place), ldev:N, mvol (the M-VOLs at the primary), or a new file path.', default: 'rvol'}),
    force: flag.boolean({summary: 'Allow an in-place restore.'}),
    'dry-run': flag.boolean({summary: 'Validate and show the plan; write nothing.'}),
  },
  async run({flags}, out): Promise<RestoreResult> {
    keepYoungGenerationSmall();
    const time = flags.time === undefined ? undefined : parseTimestamp(flags.time);
    const result = await restoreToMark(Site.open(flags.site), {
      group: flags.group!, markId: flags.mark, time, rvol: flags.rvol, target: parseTarget(flags.to), force: flags.force, dryRun: flags['dry-run'],
    });
    const verb = result.dryRun ? 'would restore' : 'restored';
    for (const v of result.volumes) out.log(`${verb} R-VOL ${v.rvol} to mark ${result.markId} (${result.markTime}, ${result.app}) → ${v.target}`);
    out.log(`${result.records} write records, ${formatBytes(result.bytes)} replayed${result.dryRun ? ' (dry run)' : ''}`);
    return result;
  },
});
