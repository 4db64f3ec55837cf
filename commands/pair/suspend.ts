import {MarklogCommand, siteFlag} from '../../src/cli/base-command.js';
import {pairFlag} from '../../src/cli/flags.js';
import {Site} from '../../src/site/site.js';
import {suspendPair, type PairStateChange} from '../../src/pair/pair-control.js';

export default class PairSuspend extends MarklogCommand {
  static override summary = 'Suspend a pair (PSUS): writes stop reaching the R-VOL and are tracked in the bitmap.';
  static override examples = ['<%= config.bin %> pair suspend --site /srv/marklog/tokyo --pair 1'];
  static override flags = {site: siteFlag, pair: pairFlag};

  async run(): Promise<PairStateChange> {
    const {flags} = await this.parse(PairSuspend);
    const change = suspendPair(Site.open(flags.site), flags.pair);
    this.log(change.note ? `pair ${change.pair}: ${change.note}` : `pair ${change.pair} ${change.previous} → ${change.state}`);
    return change;
  }
}
