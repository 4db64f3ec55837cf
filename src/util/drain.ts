// Waiting for a stream's written bytes to leave, for a writer that keeps its output
// bounded (the NBD server's replies, the agent's answers).
import type {Writable} from 'node:stream';

/**
 * Resolves once `output` has handed everything written to the system, or has gone:
 * a peer that reset the connection never drains, and must not hold the writer forever.
 * 'drain' comes only after a write that was told to wait: bytes still queued below the
 * high-water mark (a reply held a moment by TLS, or a slow pipe) are waited for by an
 * empty write's callback instead, which runs once every write before it is done.
 */
export function drainedOrGone(output: Writable): Promise<void> {
  if (output.destroyed || output.writableLength === 0) return Promise.resolve();
  return new Promise(resolve => {
    const done = () => {
      output.off('drain', done);
      output.off('close', done);
      resolve();
    };
    output.on('close', done);
    if (output.writableNeedDrain) output.on('drain', done);
    else output.write(Buffer.alloc(0), done);
  });
}
