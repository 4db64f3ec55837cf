// delay-proxy.ts as a program of its own, for latency between two namespaces (a test
// cannot move itself into one): it listens on LISTEN_HOST LISTEN_PORT (0: any free
// port), prints {"port":N} once it does, and carries each connection to TARGET_HOST
// TARGET_PORT with DELAY_MS added each way, until it is killed.
// Usage: node delay-relay.js LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS
import {delayProxy} from './delay-proxy.js';

const [listenHost, listenPort, targetHost, targetPort, delayMs] = process.argv.slice(2);
const proxy = await delayProxy({listen: {host: listenHost, port: Number(listenPort)}, target: {host: targetHost, port: Number(targetPort)}, delayMs: Number(delayMs)});
process.stdout.write(`${JSON.stringify({port: proxy.port})}\n`);
