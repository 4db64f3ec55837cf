// Exact-length reads from a socket, for a protocol whose frames have known sizes:
// `read(n)` resolves with n bytes, or undefined once the peer has closed. `detach`
// hands the socket back (for STARTTLS, where TLS takes over its bytes).
import type {Socket} from 'node:net';

export class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private waiting: (() => void) | undefined;
  private readonly onData = (chunk: Buffer) => {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.wake();
  };
  private readonly onEnd = () => {
    this.ended = true;
    this.wake();
  };

  constructor(private readonly socket: Socket) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onEnd);
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

  /** Stops reading: the socket is paused and its listeners removed. Returns how many bytes had come that nobody read. */
  detach(): number {
    this.socket.pause();
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onEnd);
    const unread = this.buffered;
    this.chunks = [];
    this.buffered = 0;
    return unread;
  }
}
