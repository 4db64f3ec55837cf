import {flag, defineCommand} from '../../src/cli/command-spec.js';
import {siteFlag, pairFlag} from '../../src/cli/flags.js';
import {copyProgressBar} from '../../src/cli/progress.js';
import {Site} from '../../src/site/site.js';
import {resyncPair, type ResyncResult} from '../../src/pair/pair-control.js';

export default defineCommand({
  summary: 'Resynchronise a suspended pair: copy only the chunks marked in its bitmap, then PAIR.',
  description: 'With --reverse after a takeover (failback): copy to the M-VOL every chunk changed at the remote or at the primary, then make the former remote the source. With --reverse on a reversed pair: swap back.',
  examples: [
    '<%= config.bin %> pair resync --site /srv/marklog/tokyo --pair 1',
    '# an image was changed behind marklog\'s back (verify --deep found it): copy it all again\n<%= config.bin %> pair resync --site /srv/marklog/tokyo --pair 1 --full',
    '# fail back after a takeover: the remote becomes the source\n<%= config.bin %> pair resync --site /srv/marklog/tokyo --pair 1 --reverse',
  ],
  flags: {
    site: siteFlag,
    pair: pairFlag,
    reverse: flag.boolean({summary: 'Fail back after a takeover, or swap a reversed pair back.'}),
    full: flag.boolean({summary: 'Copy every chunk, not only the marked ones (also from PAIR): repairs an image changed behind marklog\'s back.', default: false, exclusive: ['reverse']}),
  },
  async run({flags}, out): Promise<ResyncResult> {
    const bar = copyProgressBar(!out.json);
    const result = await resyncPair(Site.open(flags.site), flags.pair, bar.update, {reverse: flags.reverse, full: flags.full});
    bar.done();
    out.log(result.note ? `pair ${result.pair}: ${result.note}` : `pair ${result.pair} ${result.previous} → ${result.state} (${result.direction === 'reverse' ? 'R-VOL is the source' : 'M-VOL is the source'}): ${result.copiedBytes} bytes copied`);
    return result;
  },
});
