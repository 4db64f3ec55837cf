// Latency on a link, in userspace, because this kernel has no netem (REAL-CLIENTS.md
// §3.3): a TCP proxy that hands each chunk on `delayMs` after it arrived, in both
// directions. It keeps TCP's stream semantics: bytes leave in the order they came
// (one queue a direction, its head on the only timer), an end is handed on after the
// bytes before it and only that direction is closed (half-open), a reset closes both.
// Backpressure: when the far side's socket is full the queue waits for its drain,
// and when a queue holds too much the near side stops being read. Usable here, in
// the tests' process, or as a relay program inside a namespace (delay-relay.ts).
import net from 'node:net';
import {performance} from 'node:perf_hooks';
import type {ChildProcess} from 'node:child_process';
import {firstLine} from './processes.js';
import {helperPath, type WrappedCommands} from './wrapped-commands.js';

/** Bytes a direction may hold before it stops reading: 4 MiB, 160 MB/s at 25 ms. */
const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = HIGH_WATER / 2;

export interface Endpoint {
  host: string;
  port: number;
}

export interface DelayProxy extends Endpoint {
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

/** Carries `from`'s bytes to `to`, each chunk `delayMs` after it arrived, and `from`'s end after them. */
export function delayOneWay(from: net.Socket, to: net.Socket, delayMs: number): void {
  const queue: {due: number; chunk: Buffer | null}[] = [];
  let queued = 0;
  let timer: NodeJS.Timeout | undefined;
  let waitingForDrain = false;
  let paused = false;

  const resumeIfRoom = () => {
    if (paused && !waitingForDrain && queued < LOW_WATER) {
      paused = false;
      from.resume();
    }
  };
  const pump = () => {
    timer = undefined;
    while (queue.length > 0 && !waitingForDrain) {
      const wait = queue[0].due - performance.now();
      if (wait > 0) {
        // A timer may fire a fraction of a millisecond early; the loop then sets another.
        timer = setTimeout(pump, Math.ceil(wait));
        return;
      }
      const {chunk} = queue.shift()!;
      if (chunk === null) {
        to.end();
        return;
      }
      queued -= chunk.length;
      if (!to.write(chunk)) {
        waitingForDrain = true;
        to.once('drain', () => {
          waitingForDrain = false;
          pump();
        });
      }
    }
    resumeIfRoom();
  };
  const enqueue = (chunk: Buffer | null) => {
    queue.push({due: performance.now() + delayMs, chunk});
    if (timer === undefined && !waitingForDrain) pump();
  };
  from.on('data', (chunk: Buffer) => {
    queued += chunk.length;
    enqueue(chunk);
    if (queued >= HIGH_WATER && !paused) {
      paused = true;
      from.pause();
    }
  });
  from.on('end', () => enqueue(null));
}

/** Joins two sockets through a delay each way; an error or reset on either destroys both. */
export function delayBetween(a: net.Socket, b: net.Socket, delayMs: number): void {
  delayOneWay(a, b, delayMs);
  delayOneWay(b, a, delayMs);
  const both = () => {
    a.destroy();
    b.destroy();
  };
  // A clean close needs nothing: each direction's end reaches the other side through its queue.
  a.on('error', both);
  b.on('error', both);
}

/** Listens on `listen` (127.0.0.1 and a free port by default) and carries each connection to `target` with `delayMs` each way. */
export function delayProxy(options: {target: Endpoint; delayMs: number; listen?: Partial<Endpoint>}): Promise<DelayProxy> {
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const server = net.createServer({allowHalfOpen: true}, near => {
    const far = net.connect({host: options.target.host, port: options.target.port, allowHalfOpen: true});
    near.setNoDelay(true);
    far.setNoDelay(true);
    track(near);
    track(far);
    delayBetween(near, far, options.delayMs);
  });
  const host = options.listen?.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listen?.port ?? 0, host, () => {
      const {port} = server.address() as net.AddressInfo;
      resolve({
        host, port,
        close: () => new Promise(done => {
          for (const socket of sockets) socket.destroy();
          server.close(() => done());
        }),
      });
    });
  });
}

/** delay-relay.ts started somewhere (a namespace's commands): resolves once it listens. */
export async function delayRelay(where: WrappedCommands, options: {listen: Endpoint; target: Endpoint; delayMs: number}): Promise<{port: number; child: ChildProcess}> {
  const child = where.spawn([process.execPath, helperPath('delay-relay'), options.listen.host, String(options.listen.port),
    options.target.host, String(options.target.port), String(options.delayMs)]);
  const {port} = JSON.parse(await firstLine(child, 20_000, 'the delay relay to listen')) as {port: number};
  return {port, child};
}
