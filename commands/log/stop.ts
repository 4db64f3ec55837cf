import {defineCommand} from '../../src/cli/command-spec.js';
import {siteFlag, groupFlag} from '../../src/cli/flags.js';
import {Site} from '../../src/site/site.js';
import {stopLogging, type LogStopResult} from '../../src/log/log-stop.js';

export default defineCommand({
  summary: 'End log mode for a group; the log stays readable for restore.',
  description: 'Run at the primary: its pairs stop sending records and stay suspended (PSUS) with the bitmap tracking; `pair resync` returns each to PAIR. Run at the remote (primary gone): only the group\'s mode changes.',
  examples: ['<%= config.bin %> log stop --site /srv/marklog/tokyo --group 1'],
  flags: {site: siteFlag, group: groupFlag(true)},
  async run({flags}, out): Promise<LogStopResult> {
    const result = await stopLogging(Site.open(flags.site), flags.group!);
    out.log(`log group ${result.group} stopped${result.pairs.length ? `; pairs ${result.pairs.join(', ')} stay PSUS (resync to return to PAIR)` : ''}`);
    return result;
  },
});
