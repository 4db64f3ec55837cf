// The way back from a remote to a primary that linked to it (`site link
// --peer-address`): the address the remote dials for a restore onto the M-VOLs and for
// writes after a failback, and for a tls:// way back the three files the remote
// connects with. Those files live on the remote's machine, so the primary can only
// check that they are named whole and absolutely; the remote checks they can be read
// when it records them. Both ends apply the same rules (the remote's request may come
// from anything that speaks the wire), so they live here once.
import path from 'node:path';
import {InvalidArgumentError} from '../errors.js';
import {loadTlsCredentials, type TlsFlagNames, type TlsPaths} from '../transport/tls-files.js';
import type {LinkRow} from './tables.js';

export const PEER_TLS_FLAGS: TlsFlagNames = {cert: '--peer-tls-cert', key: '--peer-tls-key', ca: '--peer-tls-ca'};

const NAMES = ['cert', 'key', 'ca'] as const;

export function isTlsAddress(address: string): boolean {
  return /^tls:\/\//i.test(address);
}

function flagsOf(names: readonly (typeof NAMES)[number][]): string {
  return names.map(name => PEER_TLS_FLAGS[name]).join(', ');
}

/** The way back's TLS files, whole and absolute, and only for a tls:// address; anything else is refused before a site changes. */
export function peerTlsOf(address: string, files: Partial<TlsPaths> = {}): TlsPaths | undefined {
  const given = NAMES.filter(name => files[name] !== undefined);
  if (!isTlsAddress(address)) {
    if (given.length === 0) return undefined;
    throw new InvalidArgumentError(`${flagsOf(given)} ${given.length === 1 ? 'is' : 'are'} for a tls:// --peer-address, and the way back is ${address === '' ? 'not given' : address}`,
      'give --peer-address tls://host:port with them, or leave them out');
  }
  const missing = NAMES.filter(name => !files[name]);
  if (missing.length > 0) {
    throw new InvalidArgumentError(`--peer-address ${address} needs ${flagsOf(NAMES)}: ${flagsOf(missing)} ${missing.length === 1 ? 'is' : 'are'} missing`,
      'name the remote\'s certificate, its key and the CA of the primary\'s agent, as paths on the remote\'s machine');
  }
  for (const name of NAMES) {
    if (!path.isAbsolute(files[name]!)) {
      throw new InvalidArgumentError(`${PEER_TLS_FLAGS[name]} ${JSON.stringify(files[name])} is not an absolute path; it names a file on the remote's machine`,
        'write the path as the remote\'s machine sees it, from /');
    }
  }
  return {cert: files.cert!, key: files.key!, ca: files.ca!};
}

/** At the remote, before it records a peer row: the rules again, then the files read and checked as a connection would use them. */
export async function checkPeerRow(peer: LinkRow): Promise<void> {
  const tls = peerTlsOf(peer.remote, peer.tls);
  if (tls) await loadTlsCredentials(tls, new Date(), PEER_TLS_FLAGS);
}
