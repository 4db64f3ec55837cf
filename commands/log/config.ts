import {flag, defineCommand} from '../../src/cli/command-spec.js';
import {siteFlag, groupFlag} from '../../src/cli/flags.js';
import {Site} from '../../src/site/site.js';
import {configureLog, type LogGroupStatus} from '../../src/log/log-admin.js';
import {parseThreshold} from '../../src/log/remote-log.js';

export default defineCommand({
  summary: 'Set a log group\'s capacity alert: the threshold and a command run once per crossing.',
  description: 'The alert command runs through the shell with MARKLOG_SITE, MARKLOG_GROUP and MARKLOG_USED_RATIO set. An empty --alert-command removes it.',
  examples: ['# alert at 70 % and page the on-call\n<%= config.bin %> log config --site /srv/marklog/osaka --group 1 --threshold 70 --alert-command "logger -t marklog log filling"'],
  flags: {
    site: siteFlag,
    group: groupFlag(true),
    threshold: flag.string({summary: 'Used percentage that raises the alert (1-100, default 80).'}),
    'alert-command': flag.string({summary: 'Shell command run when the alert is raised.'}),
  },
  run({flags}, out): LogGroupStatus {
    const status = configureLog(Site.open(flags.site), flags.group!, {
      threshold: flags.threshold === undefined ? undefined : parseThreshold(flags.threshold),
      alertCommand: flags['alert-command'],
    });
    out.log(`log group ${status.group}: alert at ${Math.round(status.threshold * 100)}%${status.alertCommand ? `, runs: ${status.alertCommand}` : ''}`);
    return status;
  },
});
