import {Flags} from '@oclif/core';
import {MarklogCommand, siteFlag} from '../src/cli/base-command.js';
import {groupFlag} from '../src/cli/flags.js';
import {renderFindings} from '../src/cli/render-verify.js';
import {verifySite, type VerifyResult} from '../src/verify/verify.js';
import {EXIT_CODES} from '../src/errors.js';

export default class Verify extends MarklogCommand {
  static override summary = 'Check a site: tables, volume images, pair bitmaps, logs record by record; exit 9 when anything is wrong.';
  static override description = 'Reads everything and changes nothing. Logs: every record\'s CRC-32C, log IDs strictly increasing without gaps, headers against their records (counts, log ID and mark ID info), base generation. With --deep, PAIR pairs are compared chunk by chunk.';
  static override examples = [
    '# nightly, from cron: exit 0 when clean\n<%= config.bin %> verify --site /srv/marklog/osaka',
    '# also compare every PAIR pair byte for byte\n<%= config.bin %> verify --site /srv/marklog/tokyo --deep --json',
  ];
  static override flags = {
    site: siteFlag,
    group: groupFlag(false),
    deep: Flags.boolean({summary: 'Compare M-VOL and R-VOL of PAIR pairs chunk by chunk.', default: false}),
  };

  async run(): Promise<VerifyResult> {
    const {flags} = await this.parse(Verify);
    const result = verifySite(flags.site, {group: flags.group, deep: flags.deep});
    this.log(renderFindings(result));
    if (!result.clean) process.exitCode = EXIT_CODES.findings;
    return result;
  }
}
