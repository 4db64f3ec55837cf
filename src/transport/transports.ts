// The one module that chooses a transport for a link: from the address a link row
// keeps (LinkRow.remote) or that `site link --remote` was given (remote-address.ts):
// a directory on this machine (local-link.ts), ssh:// (the agent on ssh's pipes) or
// tls:// (an agent listening with mutual TLS), the last two as a WireLink. Importing
// it plugs the choice into the link opener (src/site/link-opener.ts), which the
// write path uses; so every entry point imports it for its effect: the command
// runner (src/cli/), the library (src/index.ts), the demo, the benchmarks, the
// tests' setup.
import path from 'node:path';
import {InvalidArgumentError, WrongRoleError} from '../errors.js';
import {useTransports, type ProbeOptions, type Probed} from '../site/link-opener.js';
import {LocalDirectoryLink} from './local-link.js';
import {parseRemoteAddress, type RemoteAddress} from './remote-address.js';
import {sshConnection} from './ssh-connection.js';
import {tlsConnection} from './tls-connection.js';
import {TLS_FLAGS, loadTlsCredentials, type TlsPaths} from './tls-files.js';
import {PEER_TLS_FLAGS} from '../site/way-back.js';
import {WireLink} from './wire-link.js';
import type {LinkRow} from '../site/tables.js';
import type {SiteLink} from '../site/link.js';

type WireAddress = Exclude<RemoteAddress, {kind: 'directory'}>;

async function wireLink(address: WireAddress, text: string, client: string, site: string, tls: TlsPaths | undefined, flags = TLS_FLAGS): Promise<WireLink> {
  if (address.kind === 'ssh') return WireLink.open({address: text, client, site, connect: async () => sshConnection(address)});
  if (!tls) {
    throw new InvalidArgumentError(`remote ${text} is reached over TLS and needs ${flags.cert}, ${flags.key} and ${flags.ca}`,
      flags === TLS_FLAGS ? 'give the primary\'s certificate, its key and the CA that signed the agent\'s' : 'link the primary to this site again with those flags');
  }
  // Read once per link, and checked as the agent checks its own: a bad file is one line now, not a failed handshake later.
  const credentials = await loadTlsCredentials(tls, new Date(), flags);
  // The listener keeps sessions across connections; an ssh agent ends with its connection.
  return WireLink.open({address: text, client, site, resumable: true, connect: async () => tlsConnection(address, credentials)});
}

/** The link a row names, by its address's form. */
export async function openLink(row: LinkRow, client: string, options: {peer?: boolean} = {}): Promise<SiteLink> {
  const address = parseRemoteAddress(row.remote);
  if (address.kind === 'directory') return LocalDirectoryLink.connect(row);
  // The agent refuses a HELLO naming another site (WRONG_ROLE), so the id is checked at the far end.
  const link = await wireLink(address, row.remote, client, row.siteId, row.tls, options.peer ? PEER_TLS_FLAGS : TLS_FLAGS);
  if (link.remote.id !== row.siteId) {
    link.close();
    throw new WrongRoleError(`${row.remote} now serves site ${link.remote.name} (${link.remote.id}), not the linked site ${row.name}`);
  }
  return link;
}

/** A link to whatever site answers at `address`, for the first contact (`site link`). */
export async function probe(text: string, options: ProbeOptions): Promise<Probed> {
  const address = parseRemoteAddress(text);
  if (address.kind === 'directory') {
    if (options.tls) throw new InvalidArgumentError('--tls-cert, --tls-key and --tls-ca are for a tls:// remote, not a directory');
    return {link: await LocalDirectoryLink.probe(address.dir), address: path.resolve(address.dir), overWire: false};
  }
  if (address.kind === 'ssh' && options.tls) throw new InvalidArgumentError('--tls-cert, --tls-key and --tls-ca are for a tls:// remote; ssh:// uses SSH\'s own keys');
  return {link: await wireLink(address, text, options.client, '', options.tls), address: text, overWire: true};
}

useTransports({open: openLink, probe});
