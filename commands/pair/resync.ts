import {MarklogCommand, siteFlag} from '../../src/cli/base-command.js';
import {pairFlag} from '../../src/cli/flags.js';
import {copyProgressBar} from '../../src/cli/progress.js';
import {Site} from '../../src/site/site.js';
import {resyncPair, type ResyncResult} from '../../src/pair/pair-control.js';

export default class PairResync extends MarklogCommand {
  static override summary = 'Resynchronise a suspended pair: copy only the chunks marked in its bitmap, then PAIR.';
  static override examples = ['<%= config.bin %> pair resync --site /srv/marklog/tokyo --pair 1', '<%= config.bin %> pair resync --site /srv/marklog/tokyo --pair 1 --json'];
  static override flags = {site: siteFlag, pair: pairFlag};

  async run(): Promise<ResyncResult> {
    const {flags} = await this.parse(PairResync);
    const bar = copyProgressBar(!this.jsonEnabled());
    const result = resyncPair(Site.open(flags.site), flags.pair, bar.update);
    bar.done();
    this.log(result.note ? `pair ${result.pair}: ${result.note}` : `pair ${result.pair} ${result.previous} → ${result.state}: ${result.copiedBytes} bytes copied`);
    return result;
  }
}
