import {arg, flag, defineCommand} from '../../src/cli/command-spec.js';
import {ldevFlag, siteFlag} from '../../src/cli/flags.js';
import {Site} from '../../src/site/site.js';
import {IMPORT_FORMATS, importDmLogWrites, type ImportResult} from '../../src/interop/dm-log-writes-import.js';
import {formatBytes} from '../../src/util/units.js';

export default defineCommand({
  summary: 'Replay a dm-log-writes log (from QEMU\'s blklogwrites or the kernel target) into a volume as host writes (docs/INTEROP.md).',
  description: 'Run at the primary. Every entry goes through the normal host write path, so it is replicated and journalled like any host write: WRITE → a write, DISCARD → zeros, FLUSH and FUA → a durability point, MARK → a marklog mark whose application name is the entry\'s name (the volume must then be in a log group). The whole log is checked first (format, sector size, ranges, mark names) and nothing is written if it is bad; if the site refuses a write or a mark on the way, the import stops there and says how many entries were applied.',
  examples: [
    '# a workload QEMU recorded with its blklogwrites driver\n<%= config.bin %> log import --site /srv/marklog/tokyo --vol 0 --format dm-log-writes /captures/db.dmlog',
  ],
  args: {file: arg.string({description: 'The dm-log-writes log file.', required: true})},
  flags: {
    site: siteFlag,
    vol: ldevFlag('The volume (LDEV at this site) the log is replayed into.'),
    format: flag.string({summary: 'The log format to read.', options: IMPORT_FORMATS, required: true}),
  },
  async run({flags, args}, out): Promise<ImportResult> {
    const result = await importDmLogWrites(Site.open(flags.site), {ldev: flags.vol, file: args.file});
    const marks = result.marks.length ? `, marks ${result.marks.map(m => `${m.name} → ${m.markId}`).join(', ')}` : '';
    out.log(`imported ${result.entries} entries into LDEV ${result.ldev}: ${result.writes} writes (${formatBytes(result.bytes)}), ${result.discards} discards (${formatBytes(result.zeroedBytes)} zeroed), ${result.flushes} flushes${marks}`);
    return result;
  },
});
