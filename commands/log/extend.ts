import {Flags} from '@oclif/core';
import {MarklogCommand, siteFlag} from '../../src/cli/base-command.js';
import {groupFlag} from '../../src/cli/flags.js';
import {Site} from '../../src/site/site.js';
import {extendLog, type LogGroupStatus} from '../../src/log/log-admin.js';
import {formatBytes} from '../../src/util/units.js';

export default class LogExtend extends MarklogCommand {
  static override summary = 'Add a pool volume to a log group (Fig. 21 relief).';
  static override examples = ['<%= config.bin %> log extend --site /srv/marklog/osaka --group 1', '# a particular pool volume\n<%= config.bin %> log extend --site /srv/marklog/osaka --group 1 --ldev 7'];
  static override flags = {
    site: siteFlag,
    group: groupFlag(true),
    ldev: Flags.integer({summary: 'Pool volume to add (default: the first in the pool).', min: 0}),
  };

  async run(): Promise<LogGroupStatus> {
    const {flags} = await this.parse(LogExtend);
    const status = extendLog(Site.open(flags.site), flags.group!, flags.ldev);
    this.log(`log group ${status.group} now has log volumes ${status.logVolumes.map(v => v.ldev).join(', ')}; ${formatBytes(status.usage.free)} free`);
    return status;
  }
}
