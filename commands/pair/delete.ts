import {Flags} from '@oclif/core';
import {MarklogCommand, siteFlag} from '../../src/cli/base-command.js';
import {pairFlag} from '../../src/cli/flags.js';
import {Site} from '../../src/site/site.js';
import {deletePair, type PairDeleteResult} from '../../src/pair/pair-control.js';

export default class PairDelete extends MarklogCommand {
  static override summary = 'Delete a pair: both volumes keep their data and become unused (SMPL).';
  static override description = 'Refused while the R-VOL is the base of a log group\'s log (logging, or stopped with the log kept); --force then takes the R-VOL out of the group, whose marks no longer restore it.';
  static override examples = [
    '<%= config.bin %> pair delete --site /srv/marklog/tokyo --pair 1',
    '# a pair whose R-VOL is in a log group: it leaves the group\n<%= config.bin %> pair delete --site /srv/marklog/tokyo --pair 2 --force',
  ];
  static override flags = {
    site: siteFlag,
    pair: pairFlag,
    force: Flags.boolean({summary: 'Delete even when the R-VOL is in a log group; it leaves the group.', default: false}),
  };

  async run(): Promise<PairDeleteResult> {
    const {flags} = await this.parse(PairDelete);
    const change = deletePair(Site.open(flags.site), flags.pair, {force: flags.force});
    this.log(`pair ${change.pair} deleted (was ${change.previous})${change.leftGroup === null ? '' : `; its R-VOL left log group ${change.leftGroup}`}`);
    return change;
  }
}
