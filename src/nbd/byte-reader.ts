// Exact-length reads from a socket, for a protocol whose frames have known sizes:
// `read(n)` resolves with n bytes, or undefined once the peer has closed.
import type {Socket} from 'node:net';

export class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private waiting: (() => void) | undefined;

  constructor(socket: Socket) {
    socket.on('data', chunk => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      this.wake();
    });
    const end = () => {
      this.ended = true;
      this.wake();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }

  async read(length: number): Promise<Buffer | undefined> {
    while (this.buffered < length) {
      if (this.ended) return undefined;
      await new Promise<void>(resolve => {
        this.waiting = resolve;
      });
    }
    const whole = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks = whole.length > length ? [whole.subarray(length)] : [];
    this.buffered -= length;
    return whole.subarray(0, length);
  }
}
