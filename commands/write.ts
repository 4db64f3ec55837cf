import {flag, defineCommand} from '../src/cli/command-spec.js';
import {siteFlag, ldevFlag} from '../src/cli/flags.js';
import {Site} from '../src/site/site.js';
import type {HostWriteResult} from '../src/io/host-io.js';
import {hostWriteFrom} from '../src/io/host-stream.js';
import {parseSize} from '../src/util/units.js';
import {withInput} from '../src/cli/stdio.js';

export default defineCommand({
  summary: 'Write bytes to a volume as the host does: replicated, tracked or logged per pair state.',
  examples: [
    '# write a file at offset 1 MiB of LDEV 0\n<%= config.bin %> write --site /srv/marklog/tokyo --vol 0 --offset 1M --file block.bin',
    '# from standard input\nprintf hello | <%= config.bin %> write --site /srv/marklog/tokyo --vol 0 --offset 0',
    '# exactly 1 GiB from a pipe, the range checked before anything is written\ngunzip -c db.img.gz | <%= config.bin %> write --site /srv/marklog/tokyo --vol 0 --offset 0 --length 1G',
  ],
  description: 'Streams in pieces: memory stays bounded whatever the length. The range is checked before anything is written when the length is known: from a regular file, or given with --length. From a pipe of unknown length, an input that runs past the end of the volume is refused there, after the part before it was written. No mark falls between the pieces of one write.',
  flags: {
    site: siteFlag,
    vol: ldevFlag('LDEV to write.'),
    offset: flag.string({summary: 'Byte offset (units allowed: 4K, 5G).', required: true}),
    file: flag.string({summary: 'Read the data from this file instead of standard input.'}),
    length: flag.string({summary: 'Write this many bytes of the input (units allowed); an input that holds fewer is refused.'}),
    sync: flag.boolean({summary: 'Flush to stable storage before returning (survives power loss).'}),
  },
  async run({flags}, out): Promise<HostWriteResult> {
    const offset = parseSize(flags.offset, 'offset');
    const site = Site.open(flags.site);
    const length = flags.length === undefined ? undefined : parseSize(flags.length, 'length');
    const result = await withInput(flags.file, input => hostWriteFrom(site, flags.vol, offset, input, {sync: flags.sync, length}));
    out.warnAll(result.warnings);
    out.log(`wrote ${result.length} bytes to LDEV ${result.ldev} at ${result.offset}`);
    return result;
  },
});
