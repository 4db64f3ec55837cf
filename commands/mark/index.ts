import os from 'node:os';
import {Flags} from '@oclif/core';
import {MarklogCommand} from '../../src/cli/base-command.js';
import {groupFlag} from '../../src/cli/flags.js';
import {Site} from '../../src/site/site.js';
import {issueMark, type MarkResult} from '../../src/mark/mark.js';

export default class Mark extends MarklogCommand {
  static override summary = 'Record a consistent point: a mark in the log group, restorable later (Figs. 18–20).';
  static override description = 'Call it when the application is consistent: a file saved, a transaction committed, a batch finished. Prints the mark ID. Safe to run from cron while other marklog commands run.';
  static override examples = [
    '# after the nightly batch\n<%= config.bin %> mark --site /srv/marklog/tokyo --app nightly-batch',
    '# every 5 minutes from cron (crontab line)\n*/5 * * * * MARKLOG_SITE=/srv/marklog/tokyo <%= config.bin %> mark --app cron --json >> /var/log/marklog-marks.jsonl',
  ];
  static override flags = {
    site: Flags.string({char: 's', summary: 'Primary site directory (or set MARKLOG_SITE).', env: 'MARKLOG_SITE', required: true}),
    group: groupFlag(false),
    app: Flags.string({summary: 'Application identifier stored with the mark (default: the user name).'}),
  };

  async run(): Promise<Omit<MarkResult, 'warnings'> & {warnings?: string[]}> {
    const {flags} = await this.parse(Mark);
    const result = issueMark(Site.open(flags.site), {group: flags.group, app: flags.app ?? os.userInfo().username});
    this.warnAll(result.warnings);
    this.log(String(result.markId));
    return result;
  }
}
