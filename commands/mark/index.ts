import os from 'node:os';
import {flag, defineCommand} from '../../src/cli/command-spec.js';
import {groupFlag} from '../../src/cli/flags.js';
import {Site} from '../../src/site/site.js';
import {issueMark, type MarkResult} from '../../src/mark/mark.js';

export default defineCommand({
  summary: 'Record a consistent point: a mark in the log group, restorable later (Figs. 18–20).',
  description: 'Call it when the application is consistent: a file saved, a transaction committed, a batch finished. Prints the mark ID. Safe to run from cron while other marklog commands run.',
  examples: [
    '# after the nightly batch\n<%= config.bin %> mark --site /srv/marklog/tokyo --app nightly-batch',
    '# every 5 minutes from cron (crontab line)\n*/5 * * * * MARKLOG_SITE=/srv/marklog/tokyo <%= config.bin %> mark --app cron --json >> /var/log/marklog-marks.jsonl',
  ],
  flags: {
    site: flag.string({char: 's', summary: 'Primary site directory (or set MARKLOG_SITE).', env: 'MARKLOG_SITE', required: true}),
    group: groupFlag(false),
    app: flag.string({summary: 'Application identifier stored with the mark (default: the user name).'}),
  },
  async run({flags}, out): Promise<Omit<MarkResult, 'warnings'> & {warnings?: string[]}> {
    const result = await issueMark(Site.open(flags.site), {group: flags.group, app: flags.app ?? os.userInfo().username});
    out.warnAll(result.warnings);
    out.log(String(result.markId));
    return result;
  },
});
