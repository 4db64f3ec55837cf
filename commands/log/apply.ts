import {flag, defineCommand} from '../../src/cli/command-spec.js';
import {siteFlag, groupFlag} from '../../src/cli/flags.js';
import {Site} from '../../src/site/site.js';
import {applyLog, type ApplyResult} from '../../src/log/apply.js';
import {formatBytes} from '../../src/util/units.js';

export default defineCommand({
  summary: 'Apply the log up to a mark into the R-VOLs: the base moves forward and the space is freed.',
  description: 'Marks before the chosen one leave the list; the chosen mark stays as the oldest. If interrupted, run the same command again.',
  examples: ['# free the log up to mark 12\n<%= config.bin %> log apply --site /srv/marklog/osaka --group 1 --upto 12'],
  flags: {
    site: siteFlag,
    group: groupFlag(true),
    upto: flag.integer({summary: 'Mark ID: every record before it is applied.', required: true, min: 0}),
  },
  run({flags}, out): ApplyResult {
    const result = applyLog(Site.open(flags.site), flags.group!, {markId: flags.upto});
    out.log(`applied ${result.appliedRecords} records (${formatBytes(result.appliedBytes)}) up to mark ${result.markId}; log ${formatBytes(result.usage.free)} free of ${formatBytes(result.usage.capacity)}`);
    return result;
  },
});
