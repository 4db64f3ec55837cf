// Waiting for a stream's written bytes to leave, for a writer that keeps its output
// bounded (the NBD server's replies, the agent's answers).
import type {Writable} from 'node:stream';

/**
 * Resolves once `output` has handed everything written to the system, or has gone:
 * a peer that reset the connection never drains, and must not hold the writer forever.
 */
export function drainedOrGone(output: Writable): Promise<void> {
  if (output.destroyed || output.writableLength === 0) return Promise.resolve();
  return new Promise(resolve => {
    const done = () => {
      output.off('drain', done);
      output.off('close', done);
      resolve();
    };
    output.on('drain', done);
    output.on('close', done);
  });
}
