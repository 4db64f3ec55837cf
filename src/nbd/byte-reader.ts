// Exact-length reads from a socket, for a protocol whose frames have known sizes:
// `read(n)` resolves with n bytes, or undefined once the peer has closed. `detach`
// hands the socket back (for STARTTLS, where TLS takes over its bytes). A client
// that sends faster than its requests are done is held back: past HIGH_WATER bytes
// nobody has asked for yet, the socket stops being read, and TCP tells the client.
import type {Socket} from 'node:net';

/** Bytes a connection may have read ahead of the requests being done. */
export const HIGH_WATER = 8 * 1024 * 1024;

export class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private paused = false;
  private waiting: (() => void) | undefined;
  private readonly onData = (chunk: Buffer) => {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered >= HIGH_WATER && !this.waiting) {
      this.paused = true;
      this.socket.pause();
    }
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
      if (this.paused) {
        this.paused = false;
        this.socket.resume();
      }
      await new Promise<void>(resolve => {
        this.waiting = resolve;
      });
    }
    return this.take(length);
  }

  /** The first `length` buffered bytes, joining only the chunks they span. */
  private take(length: number): Buffer {
    if (length === 0) return Buffer.alloc(0);
    let first = this.chunks[0];
    if (first.length < length) {
      let count = 0;
      for (let got = 0; got < length; count++) got += this.chunks[count].length;
      first = Buffer.concat(this.chunks.splice(0, count));
      this.chunks.unshift(first);
    }
    if (first.length === length) this.chunks.shift();
    else this.chunks[0] = first.subarray(length);
    this.buffered -= length;
    if (this.paused && this.buffered < HIGH_WATER) {
      this.paused = false;
      this.socket.resume();
    }
    return first.subarray(0, length);
  }

  /** Ends the read waiting now, and every later one, as if the peer had closed. */
  interrupt(): void {
    this.onEnd();
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
