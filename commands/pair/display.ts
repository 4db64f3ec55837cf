import {Flags} from '@oclif/core';
import {MarklogCommand, siteFlag} from '../../src/cli/base-command.js';
import {renderPairs} from '../../src/cli/render.js';
import {Site} from '../../src/site/site.js';
import {displayPairs, type PairView} from '../../src/pair/pair-display.js';

export default class PairDisplay extends MarklogCommand {
  static override summary = 'Show pairs: state, chunk size, dirty chunks and bytes, copy progress.';
  static override examples = ['<%= config.bin %> pair display --site /srv/marklog/tokyo', '# one pair, for a script\n<%= config.bin %> pair display --site /srv/marklog/tokyo --pair 1 --json'];
  static override flags = {site: siteFlag, pair: Flags.integer({summary: 'Only this pair.', min: 1})};

  async run(): Promise<{pairs: PairView[]}> {
    const {flags} = await this.parse(PairDisplay);
    const pairs = displayPairs(Site.open(flags.site), flags.pair);
    this.log(renderPairs(pairs));
    return {pairs};
  }
}
