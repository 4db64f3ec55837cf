import {flag, defineCommand} from '../src/cli/command-spec.js';
import {copyProgressBar} from '../src/cli/progress.js';
import {runDemo, type DemoResult} from '../src/demo/demo.js';
import {renderDemoEnd, renderDemoEvent} from '../src/demo/story.js';
import {EXIT_CODES} from '../src/errors.js';

export default defineCommand({
  summary: 'Build two linked sites and a pair in a temporary directory and walk through create, suspend, resync, log, marks and restore.',
  description: 'Everything is real: site directories, a 256 MiB sparse M-VOL with some data on it, an R-VOL, '
    + 'the initial copy, replicated writes, a suspend with three tracked writes and a resync that copies only those chunks. '
    + 'Then a pool volume at the remote becomes the log of a log group, the host writes and places two marks, '
    + 'a failing primary writes garbage, and the remote restores the volume to the last good mark into a new image file. '
    + 'Volume hashes prove each step. It takes a few seconds; the directory is removed afterwards unless --keep is given.',
  examples: [
    '# the guided tour\n<%= config.bin %> demo',
    '# keep the sites in a directory of your choice to look around afterwards\n<%= config.bin %> demo --dir ./demo-sites --keep',
    '# for a script: the checks and numbers as JSON\n<%= config.bin %> demo --json',
  ],
  flags: {
    dir: flag.string({summary: 'Build the sites in this directory (new or empty) instead of a temporary one.'}),
    keep: flag.boolean({summary: 'Leave the sites on disk afterwards.'}),
  },
  async run({flags}, out): Promise<DemoResult> {
    const human = !out.json;
    const result = await runDemo({
      dir: flags.dir,
      keep: flags.keep,
      onEvent: human ? event => out.log(renderDemoEvent(event)) : undefined,
      progress: copyProgressBar(human),
    });
    out.log(renderDemoEnd(result));
    if (!result.ok) process.exitCode = EXIT_CODES.internal;
    return result;
  },
});
