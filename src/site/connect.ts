// One open link per site handle; the transport is chosen here and nowhere else.
import {NotLinkedError} from '../errors.js';
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
