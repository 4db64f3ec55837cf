import {MarklogCommand, siteFlag} from '../../src/cli/base-command.js';
import {pairFlag} from '../../src/cli/flags.js';
import {Site} from '../../src/site/site.js';
import {deletePair, type PairStateChange} from '../../src/pair/pair-control.js';

export default class PairDelete extends MarklogCommand {
  static override summary = 'Delete a pair: both volumes keep their data and become unused (SMPL).';
  static override examples = ['<%= config.bin %> pair delete --site /srv/marklog/tokyo --pair 1'];
  static override flags = {site: siteFlag, pair: pairFlag};

  async run(): Promise<PairStateChange> {
    const {flags} = await this.parse(PairDelete);
    const change = deletePair(Site.open(flags.site), flags.pair);
    this.log(`pair ${change.pair} deleted (was ${change.previous})`);
    return change;
  }
}
