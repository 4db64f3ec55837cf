import {flag, defineCommand} from '../../src/cli/command-spec.js';
import {groupFlag, ldevFlag, siteFlag} from '../../src/cli/flags.js';
import {Site} from '../../src/site/site.js';
import {EXPORT_FORMATS, exportDmLogWrites, type ExportResult} from '../../src/interop/dm-log-writes-export.js';
import {formatBytes} from '../../src/util/units.js';

export default defineCommand({
  summary: 'Write one R-VOL\'s journal as a log other tools replay: the Linux dm-log-writes format (docs/INTEROP.md).',
  description: 'Each write record becomes a WRITE entry and each mark a MARK entry named by its mark ID, so `replay-log --end-mark 42` stops at mark 42. Writes that are not whole sectors are widened with the bytes the volume held at that point, so replaying the export onto a copy of the base gives, at every mark, the image `marklog restore` gives. The file is written under a temporary name and renamed when complete; an existing file is never overwritten.',
  examples: [
    '# the whole log of R-VOL 3\n<%= config.bin %> log export --site /srv/marklog/osaka --group 1 --rvol 3 --format dm-log-writes --out /exports/db.dmlog',
    '# up to mark 42, 4 KiB sectors\n<%= config.bin %> log export --site /srv/marklog/osaka --group 1 --rvol 3 --format dm-log-writes --out /exports/db-42.dmlog --upto 42 --sector-size 4096',
  ],
  flags: {
    site: siteFlag,
    group: groupFlag(true),
    rvol: ldevFlag('The R-VOL (LDEV at this site) whose writes are exported.'),
    format: flag.string({summary: 'The log format to write.', options: EXPORT_FORMATS, required: true}),
    out: flag.string({summary: 'The new file to write (never overwritten).', required: true}),
    upto: flag.integer({summary: 'The last mark exported (default: the whole log).', min: 0}),
    'sector-size': flag.integer({summary: 'The log\'s sector size: 512 or 4096.', default: 512}),
  },
  run({flags}, out): ExportResult {
    const result = exportDmLogWrites(Site.open(flags.site), {group: flags.group, rvol: flags.rvol, out: flags.out, upto: flags.upto, sectorSize: flags['sector-size']});
    out.log(`exported ${result.writes} writes and ${result.marks} marks of R-VOL ${result.rvol}${result.upto === null ? '' : ` up to mark ${result.upto}`} → ${result.out} (${formatBytes(result.bytes)}, ${result.sectorSize}-byte sectors${result.widened ? `, ${result.widened} widened to whole sectors` : ''})`);
    return result;
  },
});
