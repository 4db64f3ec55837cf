import chalk from 'chalk';
import {MarklogCommand, siteFlag} from '../../src/cli/base-command.js';
import {groupFlag} from '../../src/cli/flags.js';
import {renderLogStatus} from '../../src/cli/render-log.js';
import {Site} from '../../src/site/site.js';
import {logStatus, type LogGroupStatus} from '../../src/log/log-admin.js';

export default class LogStatus extends MarklogCommand {
  static override summary = 'Show log groups: mode, capacity, used, free, log ID and mark ID info, alert (Figs. 10–12).';
  static override examples = ['<%= config.bin %> log status --site /srv/marklog/osaka', '<%= config.bin %> log status --site /srv/marklog/osaka --group 1 --json'];
  static override flags = {site: siteFlag, group: groupFlag(false)};

  async run(): Promise<{groups: LogGroupStatus[]}> {
    const {flags} = await this.parse(LogStatus);
    const status = logStatus(Site.open(flags.site), flags.group);
    this.log(status.groups.length ? status.groups.map(renderLogStatus).join('\n\n') : chalk.gray('no log groups'));
    return status;
  }
}
