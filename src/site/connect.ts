// One open link per site handle; the transport is chosen here and nowhere else.
import {NotLinkedError, RemoteUnreachableError} from '../errors.js';
import {LocalDirectoryLink} from './local-link.js';
import type {Site} from './site.js';
import type {Tables} from './tables.js';
import type {SiteLink} from './link.js';

const open = new WeakMap<Site, SiteLink>();

export function linkOf(site: Site, tables: Tables): SiteLink {
  if (!tables.link) throw new NotLinkedError(tables.site.name);
  let link = open.get(site);
  if (!link || link.remote.id !== tables.link.siteId) {
    link?.close();
    link = LocalDirectoryLink.connect(tables.link);
    open.set(site, link);
  }
  return link;
}

export function closeLink(site: Site): void {
  open.get(site)?.close();
  open.delete(site);
}

const peers = new WeakMap<Site, Map<string, SiteLink>>();

/** The way back to a site that linked to this one (a remote reaching its primary). */
export function peerLinkOf(site: Site, tables: Tables, siteId: string): SiteLink {
  const row = tables.peers.find(p => p.siteId === siteId);
  if (!row) throw new RemoteUnreachableError(`site ${tables.site.name} does not know how to reach site ${siteId}`, 'link the primary to this site again with `marklog site link`');
  let open = peers.get(site);
  if (!open) peers.set(site, (open = new Map()));
  let link = open.get(siteId);
  if (!link) {
    link = LocalDirectoryLink.connect(row);
    open.set(siteId, link);
  }
  return link;
}
