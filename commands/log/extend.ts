import {flag, defineCommand} from '../../src/cli/command-spec.js';
import {siteFlag, groupFlag} from '../../src/cli/flags.js';
import {Site} from '../../src/site/site.js';
import {extendLog, type LogGroupStatus} from '../../src/log/log-admin.js';
import {formatBytes} from '../../src/util/units.js';

export default defineCommand({
  summary: 'Add a pool volume to a log group (Fig. 21 relief).',
  examples: ['<%= config.bin %> log extend --site /srv/marklog/osaka --group 1', '# a particular pool volume\n<%= config.bin %> log extend --site /srv/marklog/osaka --group 1 --ldev 7'],
  flags: {
    site: siteFlag,
    group: groupFlag(true),
    ldev: flag.integer({summary: 'Pool volume to add (default: the first in the pool).', min: 0}),
  },
  run({flags}, out): LogGroupStatus {
    const status = extendLog(Site.open(flags.site), flags.group!, flags.ldev);
    out.log(`log group ${status.group} now has log volumes ${status.logVolumes.map(v => v.ldev).join(', ')}; ${formatBytes(status.usage.free)} free`);
    return status;
  },
});
