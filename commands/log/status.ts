import {defineCommand} from '../../src/cli/command-spec.js';
import chalk from 'chalk';
import {siteFlag, groupFlag} from '../../src/cli/flags.js';
import {renderLogStatus} from '../../src/cli/render-log.js';
import {Site} from '../../src/site/site.js';
import {logStatus, type LogGroupStatus} from '../../src/log/log-admin.js';

export default defineCommand({
  summary: 'Show log groups: mode, capacity, used, free, log ID and mark ID info, alert (Figs. 10–12).',
  examples: ['<%= config.bin %> log status --site /srv/marklog/osaka', '<%= config.bin %> log status --site /srv/marklog/osaka --group 1 --json'],
  flags: {site: siteFlag, group: groupFlag(false)},
  run({flags}, out): {groups: LogGroupStatus[]} {
    const status = logStatus(Site.open(flags.site), flags.group);
    out.log(status.groups.length ? status.groups.map(renderLogStatus).join('\n\n') : chalk.gray('no log groups'));
    return status;
  },
});
