import {Flags} from '@oclif/core';
import {MarklogCommand, siteFlag} from '../src/cli/base-command.js';
import {ldevFlag} from '../src/cli/flags.js';
import {Site} from '../src/site/site.js';
import {hostWrite, type HostWriteResult} from '../src/io/host-io.js';
import {parseSize} from '../src/util/units.js';
import {readInput} from '../src/cli/stdio.js';

export default class Write extends MarklogCommand {
  static override summary = 'Write bytes to a volume as the host does: replicated, tracked or logged per pair state.';
  static override examples = [
    '# write a file at offset 1 MiB of LDEV 0\n<%= config.bin %> write --site /srv/marklog/tokyo --vol 0 --offset 1M --file block.bin',
    '# from standard input\nprintf hello | <%= config.bin %> write --site /srv/marklog/tokyo --vol 0 --offset 0',
  ];
  static override flags = {
    site: siteFlag,
    vol: ldevFlag('LDEV to write.'),
    offset: Flags.string({summary: 'Byte offset (units allowed: 4K, 5G).', required: true}),
    file: Flags.string({summary: 'Read the data from this file instead of standard input.'}),
    sync: Flags.boolean({summary: 'Flush to stable storage before returning (survives power loss).', default: false}),
  };

  async run(): Promise<HostWriteResult> {
    const {flags} = await this.parse(Write);
    const offset = parseSize(flags.offset, 'offset');
    const site = Site.open(flags.site);
    const data = await readInput(flags.file);
    const result = hostWrite(site, flags.vol, offset, data, {sync: flags.sync});
    this.warnAll(result.warnings);
    this.log(`wrote ${result.length} bytes to LDEV ${result.ldev} at ${result.offset}`);
    return result;
  }
}
