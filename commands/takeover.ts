import {flag, defineCommand} from '../src/cli/command-spec.js';
import {siteFlag, groupFlag} from '../src/cli/flags.js';
import {Site} from '../src/site/site.js';
import {describePlan, parseTakeoverMark, planTakeover, takeover, type TakeoverPlan, type TakeoverResult} from '../src/takeover/takeover.js';

export default defineCommand({
  summary: 'Take over a log group at the remote site: its R-VOLs become writable here (SSWS) (Fig. 22).',
  description: 'Works with the primary site gone: only this site changes. With --mark, the R-VOLs are first brought to that mark and every write after it is dropped (for writes made while the primary was failing); without it they receive the whole log. Afterwards hosts write at this site, the changes are tracked for failback (`pair resync --reverse` at the primary), and the primary\'s own writes to those pairs fail with TAKEN_OVER.',
  examples: [
    '# bring group 1 up here at its last mark\n<%= config.bin %> takeover --site /srv/marklog/osaka --group 1 --mark latest',
    '# at a mark chosen from `marklog mark list`\n<%= config.bin %> takeover --site /srv/marklog/osaka --group 1 --mark 41',
    '# what it would do: the mark, its time and application, what is dropped\n<%= config.bin %> takeover --site /srv/marklog/osaka --group 1 --mark latest --dry-run',
  ],
  flags: {
    site: siteFlag,
    group: groupFlag(true),
    mark: flag.string({summary: 'latest, or a mark ID; without it the whole log is applied.'}),
    'dry-run': flag.boolean({summary: 'Say which mark, how many writes are applied and how many (and how many bytes) are dropped; change nothing.'}),
  },
  run({flags}, out): TakeoverResult | TakeoverPlan {
    if (flags['dry-run']) {
      const plan = planTakeover(Site.open(flags.site), {group: flags.group!, mark: parseTakeoverMark(flags.mark)});
      out.log(`would ${describePlan(plan)} (dry run)`);
      return plan;
    }
    const result = takeover(Site.open(flags.site), {group: flags.group!, mark: parseTakeoverMark(flags.mark)});
    const at = result.markId === null ? 'the end of the log' : `mark ${result.markId}`;
    out.log(`log group ${result.group} taken over at ${at}: ${result.appliedRecords} writes applied, ${result.droppedRecords} after it dropped`);
    for (const v of result.volumes) out.log(`  R-VOL ${v.rvol} (pair ${v.pair}) is now writable here (SSWS)`);
    return result;
  },
});
