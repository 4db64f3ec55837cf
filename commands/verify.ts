import {flag, defineCommand} from '../src/cli/command-spec.js';
import {siteFlag, groupFlag} from '../src/cli/flags.js';
import {renderFindings} from '../src/cli/render-verify.js';
import {verifySite, type VerifyResult} from '../src/verify/verify.js';
import {EXIT_CODES} from '../src/errors.js';

export default defineCommand({
  summary: 'Check a site: tables, volume images, pair bitmaps, logs record by record; exit 9 when anything is wrong.',
  description: 'Reads everything and changes nothing. Logs: every record\'s CRC-32C, log IDs strictly increasing without gaps, headers against their records (counts, log ID and mark ID info), base generation. With --deep, PAIR pairs are compared chunk by chunk.',
  examples: [
    '# nightly, from cron: exit 0 when clean\n<%= config.bin %> verify --site /srv/marklog/osaka',
    '# also compare every PAIR pair byte for byte\n<%= config.bin %> verify --site /srv/marklog/tokyo --deep --json',
  ],
  flags: {
    site: siteFlag,
    group: groupFlag(false),
    deep: flag.boolean({summary: 'Compare M-VOL and R-VOL of PAIR pairs chunk by chunk.'}),
  },
  async run({flags}, out): Promise<VerifyResult> {
    const result = await verifySite(flags.site, {group: flags.group, deep: flags.deep});
    out.log(renderFindings(result));
    if (!result.clean) process.exitCode = EXIT_CODES.findings;
    return result;
  },
});
