// A TCP proxy that a test can cut: every connection it carries is destroyed at once
// on both sides (a reset each way), as a broken path would drop them, while it goes
// on listening, so the client's next connection passes.
import net from 'node:net';

export interface CutProxy {
  port: number;
  /** Connections carried so far. */
  connections(): number;
  /** Destroys every connection it carries now. */
  cut(): void;
  close(): Promise<void>;
}

export function cutProxy(target: {host: string; port: number}): Promise<CutProxy> {
  const live = new Set<net.Socket>();
  let count = 0;
  const server = net.createServer(near => {
    count++;
    const far = net.connect(target);
    for (const socket of [near, far]) {
      live.add(socket);
      socket.on('close', () => live.delete(socket));
      socket.on('error', () => {
        near.destroy();
        far.destroy();
      });
    }
    near.pipe(far);
    far.pipe(near);
  });
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve({
    port: (server.address() as net.AddressInfo).port,
    connections: () => count,
    cut: () => {
      for (const socket of live) socket.resetAndDestroy();
    },
    close: () => new Promise(done => {
      for (const socket of live) socket.destroy();
      server.close(() => done());
    }),
  })));
}

/** cut-relay.ts started for a test: its port, and a cut that resolves with the connections carried so far. */
export async function cutRelay(t: import('ava').ExecutionContext, target: {host: string; port: number}): Promise<{port: number; cut(): Promise<number>}> {
  const {helperProgram, firstLine, killIfRunning} = await import('./processes.js');
  const child = helperProgram('cut-relay', [target.host, String(target.port)]);
  t.teardown(() => killIfRunning(child));
  const {port} = JSON.parse(await firstLine(child, 20_000, 'the cut relay to listen')) as {port: number};
  let lines = '';
  const waiting: ((n: number) => void)[] = [];
  child.stdout!.on('data', chunk => {
    lines += chunk;
    for (let at = lines.indexOf('\n'); at >= 0; at = lines.indexOf('\n')) {
      const line = lines.slice(0, at);
      lines = lines.slice(at + 1);
      const cut = /^cut (\d+)$/.exec(line);
      if (cut) waiting.shift()?.(Number(cut[1]));
    }
  });
  return {
    port,
    cut: () => new Promise(resolve => {
      waiting.push(resolve);
      child.kill('SIGUSR1');
    }),
  };
}
