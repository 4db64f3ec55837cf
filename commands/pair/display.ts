import {flag, defineCommand} from '../../src/cli/command-spec.js';
import {siteFlag} from '../../src/cli/flags.js';
import {renderPairs, renderRvols} from '../../src/cli/render.js';
import {Site} from '../../src/site/site.js';
import {displayPairs, type PairView} from '../../src/pair/pair-display.js';
import {displayRvols, type RvolView} from '../../src/pair/rvol-display.js';

export default defineCommand({
  summary: 'Show pairs: state, chunk size, dirty chunks and bytes, copy progress.',
  description: 'At the primary: the pair table. At the remote: its R-VOLs with their pair, state, direction and, after a takeover, when it happened, at which mark, and how much hosts have changed since (what failback copies back).',
  examples: ['<%= config.bin %> pair display --site /srv/marklog/tokyo', '# one pair, for a script\n<%= config.bin %> pair display --site /srv/marklog/tokyo --pair 1 --json', '# at the recovery site: its R-VOLs, taken over or not\n<%= config.bin %> pair display --site /srv/marklog/osaka'],
  flags: {site: siteFlag, pair: flag.integer({summary: 'Only this pair.', min: 1})},
  async run({flags}, out): Promise<{pairs: PairView[]; rvols?: RvolView[]}> {
    const site = Site.open(flags.site);
    if (site.view().site.role === 'remote') {
      // A remote's own pairs are cascades (its R-VOL is the M-VOL of a pair to a third site).
      const pairs = displayPairs(site).filter(p => flags.pair === undefined || p.pair === flags.pair);
      const rvols = (await displayRvols(site)).filter(r => flags.pair === undefined || r.pair === flags.pair);
      out.log(pairs.length > 0 ? `${renderRvols(rvols)}\n\ncascade pairs from this site:\n${renderPairs(pairs)}` : renderRvols(rvols));
      return {pairs, rvols};
    }
    const pairs = displayPairs(site, flags.pair);
    out.log(renderPairs(pairs));
    return {pairs};
  },
});
