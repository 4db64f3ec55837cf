// One open link per site handle, and the way back to each site that linked to this
// one. Which transport a link row needs (a directory, later ssh:// and tls://) is
// not decided here: the transports sit above the write path (src/transport/), and
// src/transport/transports.ts plugs them in with useTransports() when an entry
// point (a command, the library, a test) imports it. So the write path asks for a
// link without importing what builds one.
import {NotLinkedError, RemoteUnreachableError} from '../errors.js';
import type {Site} from './site.js';
import type {LinkRow, Tables} from './tables.js';
import type {SiteLink} from './link.js';

/** What the first contact (`site link`) is given besides the address. */
export interface ProbeOptions {
  /** The id of the site linking. */
  client: string;
  /** For a tls:// address: the client certificate, its key and the CA to check the agent by. */
  tls?: {cert: string; key: string; ca: string};
}

/** The first contact's link, the address as the link row keeps it, and whether the far site is on another machine. */
export interface Probed {
  link: SiteLink;
  address: string;
  overWire: boolean;
}

export interface Transports {
  /**
   * A link to the site a link row names, for the site `client`; refused when another
   * site answers there. `peer`: the row is a way back (a peers[] row), so a problem
   * with its TLS files names the --peer-tls-* flags that gave them.
   */
  open(row: LinkRow, client: string, options?: {peer?: boolean}): Promise<SiteLink>;
  /**
   * A link to whatever site answers at `address` now: the first contact, before its
   * id is known; with the address as the link row keeps it (a directory made absolute).
   */
  probe(address: string, options: ProbeOptions): Promise<Probed>;
}

let transports: Transports | undefined;

export function useTransports(chosen: Transports): void {
  transports = chosen;
}

function plugged(): Transports {
  // A programming error, not an operator's: no MarklogError, so it is reported as internal.
  if (!transports) throw new Error('internal error: no site link transport is plugged in (an entry point must import src/transport/transports.js)');
  return transports;
}

/** A link being opened or open; `opened` is set once it is, so it can be closed at once. */
interface Entry {
  siteId: string;
  link: Promise<SiteLink>;
  opened?: SiteLink;
}

/** Opens `row`'s link; callers asking meanwhile share the attempt. A failed attempt is forgotten, so the next call tries again. */
function opening(row: LinkRow, client: string, forget: (entry: Entry) => void, peer = false): Entry {
  const entry: Entry = {siteId: row.siteId, link: Promise.resolve().then(() => plugged().open(row, client, {peer}))};
  void entry.link.then(link => {
    entry.opened = link;
  }, () => forget(entry));
  return entry;
}

function closeEntry(entry: Entry): void {
  if (entry.opened) entry.opened.close();
  else void entry.link.then(link => link.close(), () => {});
}

const open = new WeakMap<Site, Entry>();

export function linkOf(site: Site, tables: Tables): Promise<SiteLink> {
  const row = tables.link;
  if (!row) return Promise.reject(new NotLinkedError(tables.site.name));
  let entry = open.get(site);
  if (!entry || entry.siteId !== row.siteId) {
    if (entry) closeEntry(entry);
    entry = opening(row, tables.site.id, failed => {
      if (open.get(site) === failed) open.delete(site);
    });
    open.set(site, entry);
  }
  return entry.link;
}

const peers = new WeakMap<Site, Map<string, Entry>>();

/** The way back to a site that linked to this one (a remote reaching its primary). */
export function peerLinkOf(site: Site, tables: Tables, siteId: string): Promise<SiteLink> {
  const row = tables.peers.find(p => p.siteId === siteId);
  if (!row) return Promise.reject(new RemoteUnreachableError(`site ${tables.site.name} does not know how to reach site ${siteId}`, 'link the primary to this site again with `marklog site link`'));
  if (row.remote === '') {
    return Promise.reject(new RemoteUnreachableError(`site ${tables.site.name} has no way back to its primary ${row.name}: the primary linked over the wire without --peer-address`,
      'link again with `marklog site link … --peer-address ssh://…` (or tls://… with --peer-tls-cert, --peer-tls-key and --peer-tls-ca) if this site must reach the primary'));
  }
  let known = peers.get(site);
  if (!known) peers.set(site, (known = new Map()));
  let entry = known.get(siteId);
  if (!entry) {
    const map = known;
    entry = opening(row, tables.site.id, failed => {
      if (map.get(siteId) === failed) map.delete(siteId);
    }, true);
    known.set(siteId, entry);
  }
  return entry.link;
}

/** Closes every link this site handle opened (its remote's, and its ways back to its primaries). */
export function closeLink(site: Site): void {
  const entry = open.get(site);
  open.delete(site);
  if (entry) closeEntry(entry);
  for (const peer of peers.get(site)?.values() ?? []) closeEntry(peer);
  peers.delete(site);
}

/** A link to whatever site answers at `address` (`site link`'s first contact); the caller closes it. */
export function probeRemote(address: string, options: ProbeOptions): Promise<Probed> {
  return Promise.resolve().then(() => plugged().probe(address, options));
}
