import {flag, defineCommand} from '../../src/cli/command-spec.js';
import {siteFlag, ldevFlag} from '../../src/cli/flags.js';
import {copyProgressBar} from '../../src/cli/progress.js';
import {Site} from '../../src/site/site.js';
import {createPair, type PairCreateResult} from '../../src/pair/pair-create.js';
import {parseSize} from '../../src/util/units.js';

export default defineCommand({
  summary: 'Pair an M-VOL with an R-VOL at the linked remote and copy it (Fig. 14).',
  description: 'Every chunk of the M-VOL is copied to the R-VOL; holes of a sparse M-VOL are zeroed without moving data. Host writes may go on meanwhile. If the copy is interrupted, run the same command again: it resumes from its persisted copy pointer.',
  examples: [
    '# mirror LDEV 0 at the primary onto LDEV 3 at the remote\n<%= config.bin %> pair create --site /srv/marklog/tokyo --mvol 0 --rvol 3',
    '# the same, for a script\n<%= config.bin %> pair create --site /srv/marklog/tokyo --mvol 0 --rvol 3 --json',
  ],
  flags: {
    site: siteFlag,
    mvol: ldevFlag('LDEV of the M-VOL at this site.'),
    rvol: ldevFlag('LDEV of the R-VOL at the linked remote site.'),
    'chunk-size': flag.string({summary: 'Bytes per bitmap bit (power of two, 4K to 64M).', default: '64K'}),
  },
  async run({flags}, out): Promise<PairCreateResult> {
    const bar = copyProgressBar(!out.json);
    const result = await createPair(Site.open(flags.site), {
      mvol: flags.mvol, rvol: flags.rvol, chunkSize: parseSize(flags['chunk-size'], 'chunk size'), onProgress: bar.update,
    });
    bar.done();
    out.log(`pair ${result.pair} ${result.state}${result.resumed ? ' (resumed)' : ''}: ${result.copiedBytes} bytes copied`);
    return result;
  },
});
