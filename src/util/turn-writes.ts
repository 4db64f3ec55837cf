// Writes to a stream gathered into one system call per turn of the event loop, as
// the NBD server gathers its replies (src/nbd/transmit.ts). A wire frame is four
// pieces (header, JSON, binary part, trailer), and the write path sends a batch's
// frames in one turn; written one by one, each piece was a write(2) of its own on
// ssh's pipe, and a TLS record and a write(2) of its own on a TLS socket. Corked,
// they leave together when the turn ends, in the order written: the bytes on the
// wire are the same. end() writes out whatever is corked before it ends.
import type {Writable} from 'node:stream';

const corked = new WeakSet<Writable>();

/** Writes `pieces` to `output`, corked until the current turn ends; false when the stream asks the writer to wait for 'drain'. */
export function writeInTurn(output: Writable, pieces: readonly Uint8Array[]): boolean {
  if (!corked.has(output)) {
    corked.add(output);
    output.cork();
    process.nextTick(() => {
      corked.delete(output);
      output.uncork();
    });
  }
  let ok = true;
  for (const piece of pieces) ok = output.write(piece) && ok;
  return ok;
}
