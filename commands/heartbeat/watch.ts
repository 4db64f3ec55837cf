import {flag, defineCommand} from '../../src/cli/command-spec.js';
import {lossAction, renderWatchLine} from '../../src/cli/render-heartbeat.js';
import {watchAndAct} from '../../src/takeover/heartbeat-run.js';

export default defineCommand({
  summary: 'Watch the production host from the recovery side; on loss, ask, run a command, or take over (Fig. 22).',
  description: 'States: OK → MAIN_MISSED (main path missed, up to --misses) → TRYING_ALTERNATE → ALTERNATE_OK (host alive on the alternate path) or LOST (silent on both); RECOVERED when a path answers again. On LOST: with --takeover-on-loss, take over at once; with --on-loss, run that command; on a terminal with --site and --group, ask; otherwise report and keep watching.',
  examples: [
    '# ask the operator before taking over\n<%= config.bin %> heartbeat watch --main 10.0.0.5:7410 --alternate 192.168.50.5:7410 --site /srv/marklog/osaka --group 1',
    '# unattended: take over at the last mark after 3 misses of 1 s on both paths\n<%= config.bin %> heartbeat watch --main 10.0.0.5:7410 --alternate 192.168.50.5:7410 --takeover-on-loss --site /srv/marklog/osaka --group 1 --mark latest --json',
    '# page someone instead\n<%= config.bin %> heartbeat watch --main 10.0.0.5:7410 --on-loss "/usr/local/bin/page-oncall marklog"',
  ],
  jsonFlag: false,
  flags: {
    main: flag.string({summary: 'Main path: host:port, or a heartbeat file.', required: true}),
    alternate: flag.string({summary: 'Alternate path, tried after the main path misses.'}),
    interval: flag.integer({summary: 'Milliseconds between heartbeats.', default: 1000, min: 10}),
    misses: flag.integer({summary: 'Missed heartbeats on the main path before the alternate is tried.', default: 3, min: 1}),
    'on-loss': flag.string({summary: 'Shell command to run when the host is lost.', exclusive: ['takeover-on-loss']}),
    'takeover-on-loss': flag.boolean({summary: 'Take over on loss without asking (needs --site and --group).'}),
    site: flag.string({summary: 'Remote site to take over at (or set MARKLOG_SITE).', env: 'MARKLOG_SITE'}),
    group: flag.integer({summary: 'Log group to take over.', min: 1}),
    mark: flag.string({summary: 'Takeover mark: latest (default) or a mark ID.', default: 'latest'}),
    'max-time': flag.integer({summary: 'Stop watching after this many milliseconds.', min: 1}),
    'exit-on-loss': flag.boolean({summary: 'Stop once the loss has been handled.'}),
    json: flag.boolean({summary: 'One JSON object per line for each state change.'}),
  },
  async run({flags}, out): Promise<void> {
    await watchAndAct({
      main: flags.main, alternate: flags.alternate, intervalMs: flags.interval, misses: flags.misses,
      maxTimeMs: flags['max-time'], exitOnLoss: flags['exit-on-loss'], action: lossAction(flags, Boolean(process.stdin.isTTY)),
    }, line => out.log(renderWatchLine(line, flags.json)));
  },
});
