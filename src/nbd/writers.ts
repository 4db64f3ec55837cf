// The one-writer rule of `marklog serve` (docs/NBD.md §5): an export is written from
// one host at a time. Connections from that host may be many (CAN_MULTI_CONN is
// safe here); a connection from another host that asks for the export while it is
// held is refused at GO, with a message naming the holder. The claim ends with the
// holder's last connection to that export.
import type net from 'node:net';
import {isLoopback} from './listeners.js';

export interface Peer {
  /** What tells hosts apart: the peer's IP address; every local client (loopback, the Unix socket) is one host. */
  host: string;
  /** For messages: the host, and how it came. */
  label: string;
}

const THIS_MACHINE = 'this machine';

/** Who is at the other end of a connection (`local`: it came on the Unix socket); the TCP address, not the TLS layer over it. */
export function peerOf(socket: net.Socket, local: boolean): Peer {
  if (local) return {host: THIS_MACHINE, label: `${THIS_MACHINE} (the Unix socket)`};
  // A TCP peer gone before it was looked at has no address; it can ask for nothing, but must not pass for a local one.
  const address = socket.remoteAddress ?? 'an address already gone';
  const plain = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  if (isLoopback(plain)) return {host: THIS_MACHINE, label: `${THIS_MACHINE} (${plain})`};
  return {host: plain, label: plain};
}

interface Claim {
  peer: Peer;
  connections: number;
  since: Date;
}

export class WriterClaims {
  private readonly held = new Map<number, Claim>();

  /** Takes the export for the peer's host; undefined when that worked, else why not (one line). */
  claim(ldev: number, peer: Peer): string | undefined {
    const claim = this.held.get(ldev);
    if (!claim) {
      this.held.set(ldev, {peer, connections: 1, since: new Date()});
      return undefined;
    }
    if (claim.peer.host === peer.host) {
      claim.connections++;
      return undefined;
    }
    const count = claim.connections === 1 ? 'one connection' : `${claim.connections} connections`;
    return `LDEV ${ldev} is being written from ${claim.peer.label} (${count}, since ${claim.since.toISOString()}); `
      + 'marklog serve lets one host at a time write an export: try again once it has disconnected';
  }

  /** One connection of the holder's host has ended. */
  release(ldev: number): void {
    const claim = this.held.get(ldev);
    if (claim && --claim.connections === 0) this.held.delete(ldev);
  }
}
