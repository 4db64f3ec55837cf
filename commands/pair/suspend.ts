import {defineCommand} from '../../src/cli/command-spec.js';
import {siteFlag, pairFlag} from '../../src/cli/flags.js';
import {Site} from '../../src/site/site.js';
import {suspendPair, type PairStateChange} from '../../src/pair/pair-control.js';

export default defineCommand({
  summary: 'Suspend a pair (PSUS): writes stop reaching the R-VOL and are tracked in the bitmap.',
  examples: ['<%= config.bin %> pair suspend --site /srv/marklog/tokyo --pair 1'],
  flags: {site: siteFlag, pair: pairFlag},
  async run({flags}, out): Promise<PairStateChange> {
    const change = await suspendPair(Site.open(flags.site), flags.pair);
    out.log(change.note ? `pair ${change.pair}: ${change.note}` : `pair ${change.pair} ${change.previous} → ${change.state}`);
    return change;
  },
});
