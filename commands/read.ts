import {flag, defineCommand} from '../src/cli/command-spec.js';
import {siteFlag, ldevFlag} from '../src/cli/flags.js';
import {Site} from '../src/site/site.js';
import {hostReadTo} from '../src/io/host-stream.js';
import {parseSize} from '../src/util/units.js';
import {openOutput} from '../src/cli/stdio.js';

export default defineCommand({
  summary: 'Read bytes from a volume to a file or standard output.',
  description: 'Streams in pieces: memory stays bounded whatever the length. A file given with --out is created (or emptied) only once the range is known to be inside the volume, and the holes of a sparse volume stay holes in it.',
  examples: [
    '# 4 KiB from offset 1 MiB into a file\n<%= config.bin %> read --site /srv/marklog/tokyo --vol 0 --offset 1M --length 4K --out block.bin',
    '# inspect with hexdump\n<%= config.bin %> read --site /srv/marklog/osaka --vol 3 --offset 0 --length 512 | hexdump -C',
  ],
  jsonFlag: false,
  flags: {
    site: siteFlag,
    vol: ldevFlag('LDEV to read.'),
    offset: flag.string({summary: 'Byte offset (units allowed).', required: true}),
    length: flag.string({summary: 'Bytes to read (units allowed).', required: true}),
    out: flag.string({summary: 'Write the bytes to this file instead of standard output.'}),
  },
  async run({flags}): Promise<void> {
    await hostReadTo(Site.open(flags.site), flags.vol, parseSize(flags.offset, 'offset'), parseSize(flags.length, 'length'), () => openOutput(flags.out));
  },
});
