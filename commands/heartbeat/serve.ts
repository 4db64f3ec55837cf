import os from 'node:os';
import {flag, defineCommand} from '../../src/cli/command-spec.js';
import {serveUntilSignal} from '../../src/takeover/heartbeat-run.js';

export default defineCommand({
  summary: 'Answer heartbeats on the production side, on a main and an alternate path (Fig. 22).',
  description: 'A path is host:port (TCP), or a file path on shared storage that is rewritten every interval. Runs until SIGINT or SIGTERM.',
  examples: [
    '# main path on the service network, alternate on the storage network\n<%= config.bin %> heartbeat serve --listen 10.0.0.5:7410 --listen 192.168.50.5:7410',
    '# through shared storage\n<%= config.bin %> heartbeat serve --listen /shared/marklog/heartbeat --interval 1000',
  ],
  jsonFlag: false,
  flags: {
    listen: flag.stringList({summary: 'host:port or file path to answer on; give it once per path.', required: true}),
    interval: flag.integer({summary: 'Milliseconds between heartbeat file rewrites.', default: 1000, min: 10}),
    name: flag.string({summary: 'Name reported to watchers.', default: os.hostname()}),
  },
  async run({flags}, out): Promise<void> {
    await serveUntilSignal({listen: flags.listen, intervalMs: flags.interval, name: flags.name}, server => {
      for (const address of server.listening) out.log(`answering heartbeats on ${address}`);
    });
  },
});
