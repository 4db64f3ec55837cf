// Finds a volume that already is a given image file, at this site and at every site
// this one replicates with (its remote, its primaries): an import of the same file a
// second time, through another name or at the other site, is refused.
import {MarklogError} from '../errors.js';
import {imageIdentity} from '../volume/image-identity.js';
import {linkOf, peerLinkOf} from './link-opener.js';
import type {Site} from './site.js';
import type {Tables} from './tables.js';

export interface SameImage {
  site: string;
  ldev: number;
}

/** This site's volume whose image is the file with that identity (the far side of a link asks this). */
export function volumeWithImage(site: Site, tables: Tables, identity: string): SameImage | null {
  const row = tables.volumes.find(v => imageIdentity(site.path(v.image)) === identity);
  return row ? {site: tables.site.name, ldev: row.ldev} : null;
}

export async function findSameImage(site: Site, tables: Tables, identity: string): Promise<SameImage | null> {
  const here = volumeWithImage(site, tables, identity);
  if (here) return here;
  const links = [
    ...(tables.link ? [() => linkOf(site, tables)] : []),
    ...tables.peers.map(peer => () => peerLinkOf(site, tables, peer.siteId)),
  ];
  for (const open of links) {
    try {
      const found = await (await open()).findImage(identity);
      if (found) return found;
    } catch (error) {
      // A site that does not answer cannot hold a second name for this file on this machine's disks.
      if (!(error instanceof MarklogError)) throw error;
    }
  }
  return null;
}
