import os from 'node:os';
import {Flags} from '@oclif/core';
import {MarklogCommand} from '../../src/cli/base-command.js';
import {serveUntilSignal} from '../../src/takeover/heartbeat-run.js';

export default class HeartbeatServe extends MarklogCommand {
  static override summary = 'Answer heartbeats on the production side, on a main and an alternate path (Fig. 22).';
  static override description = 'A path is host:port (TCP), or a file path on shared storage that is rewritten every interval. Runs until SIGINT or SIGTERM.';
  static override examples = [
    '# main path on the service network, alternate on the storage network\n<%= config.bin %> heartbeat serve --listen 10.0.0.5:7410 --listen 192.168.50.5:7410',
    '# through shared storage\n<%= config.bin %> heartbeat serve --listen /shared/marklog/heartbeat --interval 1000',
  ];
  static override enableJsonFlag = false;
  static override flags = {
    listen: Flags.string({summary: 'host:port or file path to answer on; give it once per path.', multiple: true, required: true}),
    interval: Flags.integer({summary: 'Milliseconds between heartbeat file rewrites.', default: 1000, min: 10}),
    name: Flags.string({summary: 'Name reported to watchers.', default: os.hostname()}),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(HeartbeatServe);
    await serveUntilSignal({listen: flags.listen, intervalMs: flags.interval, name: flags.name}, server => {
      for (const address of server.listening) this.log(`answering heartbeats on ${address}`);
    });
  }
}
