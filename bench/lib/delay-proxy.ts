// Row 32's link to a far machine: a TCP proxy on loopback that holds every chunk it
// reads for a fixed delay before it writes it on, in each direction, so a round
// trip through it costs twice the delay. Chunks leave in the order they came (one
// queue a direction, due times only increase). Backpressure both ways: a side
// that does not take what is written stops the reading from the other side, and
// so does a delay line holding more than LINE_BYTES (what is "on the wire":
// the link's bandwidth is then LINE_BYTES per delay, far above the rows' needs).
// Run as: node dist/bench/lib/delay-proxy.js --to HOST:PORT --delay-ms MS
// It prints {"port": N} once it listens on 127.0.0.1, and runs until SIGTERM.
import net from 'node:net';
import {parseArgs} from 'node:util';

const LINE_BYTES = 32 * 1024 * 1024;

interface Held {
  due: number;
  chunk: Buffer;
}

/** One direction of one connection: `from`'s bytes reach `to` `delayMs` after they came. */
function delayLine(from: net.Socket, to: net.Socket, delayMs: number): void {
  const queue: Held[] = [];
  let head = 0;
  let held = 0;
  let ended = false;
  let blocked = false;
  let timer: NodeJS.Timeout | undefined;

  const flowControl = () => {
    if (blocked || held > LINE_BYTES) from.pause();
    else if (from.isPaused()) from.resume();
  };
  const release = () => {
    timer = undefined;
    const now = performance.now();
    while (head < queue.length && !blocked && queue[head].due <= now) {
      const {chunk} = queue[head++];
      held -= chunk.length;
      if (!to.write(chunk)) blocked = true;
    }
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    if (head < queue.length) {
      if (!blocked) timer = setTimeout(release, Math.max(0, queue[head].due - performance.now()));
    } else if (ended) {
      to.end();
    }
    flowControl();
  };
  from.on('data', (chunk: Buffer) => {
    queue.push({due: performance.now() + delayMs, chunk});
    held += chunk.length;
    if (!timer && !blocked && head === queue.length - 1) timer = setTimeout(release, delayMs);
    flowControl();
  });
  from.on('end', () => {
    ended = true;
    if (head === queue.length) to.end();
  });
  to.on('drain', () => {
    blocked = false;
    if (!timer) release();
  });
}

const {values} = parseArgs({options: {to: {type: 'string'}, 'delay-ms': {type: 'string'}}});
const [host, port] = (() => {
  const match = /^(.+):(\d+)$/.exec(values.to ?? '');
  if (!match) throw new Error('--to HOST:PORT');
  return [match[1], Number(match[2])] as const;
})();
const delayMs = Number(values['delay-ms'] ?? 25);

const server = net.createServer({noDelay: true}, client => {
  const upstream = net.connect({host, port, noDelay: true});
  client.pause();
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  // An end travels through the delay line like the bytes before it; a reset cuts both at once.
  client.on('error', close);
  upstream.on('error', close);
  upstream.once('connect', () => {
    delayLine(client, upstream, delayMs);
    delayLine(upstream, client, delayMs);
    client.resume();
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({port: (server.address() as net.AddressInfo).port, delayMs})}\n`);
});
process.on('SIGTERM', () => process.exit(0));
