import {Flags} from '@oclif/core';
import {MarklogCommand, siteFlag} from '../../src/cli/base-command.js';
import {groupFlag} from '../../src/cli/flags.js';
import {Site} from '../../src/site/site.js';
import {applyLog, type ApplyResult} from '../../src/log/apply.js';
import {formatBytes} from '../../src/util/units.js';

export default class LogApply extends MarklogCommand {
  static override summary = 'Apply the log up to a mark into the R-VOLs: the base moves forward and the space is freed.';
  static override description = 'Marks before the chosen one leave the list; the chosen mark stays as the oldest. If interrupted, run the same command again.';
  static override examples = ['# free the log up to mark 12\n<%= config.bin %> log apply --site /srv/marklog/osaka --group 1 --upto 12'];
  static override flags = {
    site: siteFlag,
    group: groupFlag(true),
    upto: Flags.integer({summary: 'Mark ID: every record before it is applied.', required: true, min: 0}),
  };

  async run(): Promise<ApplyResult> {
    const {flags} = await this.parse(LogApply);
    const result = applyLog(Site.open(flags.site), flags.group!, {markId: flags.upto});
    this.log(`applied ${result.appliedRecords} records (${formatBytes(result.appliedBytes)}) up to mark ${result.markId}; log ${formatBytes(result.usage.free)} free of ${formatBytes(result.usage.capacity)}`);
    return result;
  }
}
