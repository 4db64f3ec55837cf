import {flag, defineCommand} from '../../src/cli/command-spec.js';
import {siteFlag, pairFlag} from '../../src/cli/flags.js';
import {Site} from '../../src/site/site.js';
import {deletePair, type PairDeleteResult} from '../../src/pair/pair-control.js';

export default defineCommand({
  summary: 'Delete a pair: both volumes keep their data and become unused (SMPL).',
  description: 'Refused while the R-VOL is the base of a log group\'s log (logging, or stopped with the log kept); --force then takes the R-VOL out of the group, whose marks no longer restore it.',
  examples: [
    '<%= config.bin %> pair delete --site /srv/marklog/tokyo --pair 1',
    '# a pair whose R-VOL is in a log group: it leaves the group\n<%= config.bin %> pair delete --site /srv/marklog/tokyo --pair 2 --force',
  ],
  flags: {
    site: siteFlag,
    pair: pairFlag,
    force: flag.boolean({summary: 'Delete even when the R-VOL is in a log group; it leaves the group.'}),
  },
  async run({flags}, out): Promise<PairDeleteResult> {
    const change = await deletePair(Site.open(flags.site), flags.pair, {force: flags.force});
    out.log(`pair ${change.pair} deleted (was ${change.previous})${change.leftGroup === null ? '' : `; its R-VOL left log group ${change.leftGroup}`}`);
    return change;
  },
});
