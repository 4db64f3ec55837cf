import {MarklogCommand, siteFlag} from '../../src/cli/base-command.js';
import {groupFlag} from '../../src/cli/flags.js';
import {Site} from '../../src/site/site.js';
import {stopLogging, type LogStopResult} from '../../src/log/log-stop.js';

export default class LogStop extends MarklogCommand {
  static override summary = 'End log mode for a group; the log stays readable for restore.';
  static override description = 'Run at the primary: its pairs stop sending records and stay suspended (PSUS) with the bitmap tracking; `pair resync` returns each to PAIR. Run at the remote (primary gone): only the group\'s mode changes.';
  static override examples = ['<%= config.bin %> log stop --site /srv/marklog/tokyo --group 1'];
  static override flags = {site: siteFlag, group: groupFlag(true)};

  async run(): Promise<LogStopResult> {
    const {flags} = await this.parse(LogStop);
    const result = stopLogging(Site.open(flags.site), flags.group!);
    this.log(`log group ${result.group} stopped${result.pairs.length ? `; pairs ${result.pairs.join(', ')} stay PSUS (resync to return to PAIR)` : ''}`);
    return result;
  }
}
