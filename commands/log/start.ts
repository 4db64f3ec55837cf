import {flag, defineCommand} from '../../src/cli/command-spec.js';
import {siteFlag, groupFlag} from '../../src/cli/flags.js';
import {Site} from '../../src/site/site.js';
import {startLogging, type LogStartResult} from '../../src/log/log-start.js';
import {parseCount} from '../../src/util/units.js';

export default defineCommand({
  summary: 'Start logging for pairs in PAIR state: their R-VOLs freeze as the base, every later write is journaled (Figs. 16, 17).',
  description: 'The remote takes a log volume from its pool if the group has none. Several pairs in one group share one log ID sequence, so a restore brings all their volumes to the same mark.',
  examples: [
    '# log pairs 1 and 2 together in group 1\n<%= config.bin %> log start --site /srv/marklog/tokyo --pairs 1,2 --group 1',
  ],
  flags: {
    site: siteFlag,
    pairs: flag.string({summary: 'Comma-separated pair numbers, all in PAIR state.', required: true}),
    group: groupFlag(false),
  },
  async run({flags}, out): Promise<LogStartResult> {
    const pairs = flags.pairs.split(',').map(p => parseCount(p, 'pair'));
    const result = await startLogging(Site.open(flags.site), {pairs, group: flags.group});
    out.log(`log group ${result.group} is logging pairs ${result.pairs.join(', ')} into log volume(s) ${result.logVolumes.join(', ')}`);
    return result;
  },
});
