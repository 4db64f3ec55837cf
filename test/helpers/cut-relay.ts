// cut-proxy.ts as a program of its own, so that it carries bytes while the test's
// process waits on a command (the CLI helpers run synchronously): it listens on a free
// loopback port, prints {"port":N}, and cuts every connection it carries at each
// SIGUSR1, printing "cut N" (N: connections carried so far), until it is killed.
// Usage: node cut-relay.js TARGET_HOST TARGET_PORT
import {cutProxy} from './cut-proxy.js';

const [host, port] = process.argv.slice(2);
const proxy = await cutProxy({host, port: Number(port)});
process.on('SIGUSR1', () => {
  proxy.cut();
  process.stdout.write(`cut ${proxy.connections()}\n`);
});
process.stdout.write(`${JSON.stringify({port: proxy.port})}\n`);
