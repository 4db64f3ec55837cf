// Site init, link and show (`marklog site ...`).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {InvalidArgumentError, SiteExistsError, WrongRoleError} from '../errors.js';
import {writeFileAtomic} from '../util/atomic-file.js';
import {LOCK_FILE, PAIRS_DIR, VOLUMES_DIR, tablesPath} from './layout.js';
import {probeRemote} from './link-opener.js';
import {INFLIGHT_FILE} from '../io/inflight.js';
import {SITE_ROLES, emptyTables, type LinkRow, type SiteRole, type Tables} from './tables.js';
import {Site} from './site.js';
import {peerTlsOf} from './way-back.js';
import type {TlsPaths} from '../transport/tls-files.js';

export interface SiteInitOptions {
  dir: string;
  role: string;
  name?: string;
}

export interface SiteSummary {
  dir: string;
  id: string;
  name: string;
  role: SiteRole;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function initSite(options: SiteInitOptions): SiteSummary {
  if (!SITE_ROLES.includes(options.role as SiteRole)) {
    throw new InvalidArgumentError(`role "${options.role}" must be primary or remote`);
  }
  const dir = path.resolve(options.dir);
  const name = options.name ?? path.basename(dir);
  if (!NAME.test(name)) throw new InvalidArgumentError(`site name ${JSON.stringify(name)} may hold only letters, digits, '.', '_' and '-' (64 at most)`);
  if (fs.existsSync(tablesPath(dir))) throw new SiteExistsError(dir);
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
    throw new InvalidArgumentError(`directory ${JSON.stringify(dir)} is not empty; a site needs a directory of its own`);
  }
  fs.mkdirSync(dir, {recursive: true, mode: 0o700});
  // An existing empty directory keeps its mode otherwise; site files are the owner's alone.
  fs.chmodSync(dir, 0o700);
  for (const sub of [VOLUMES_DIR, PAIRS_DIR]) fs.mkdirSync(path.join(dir, sub), {mode: 0o700});
  fs.writeFileSync(path.join(dir, LOCK_FILE), '', {mode: 0o600});
  fs.writeFileSync(path.join(dir, `${LOCK_FILE}.queue`), '', {mode: 0o600});
  fs.writeFileSync(path.join(dir, INFLIGHT_FILE), '', {mode: 0o600});
  const tables = emptyTables({id: crypto.randomBytes(8).toString('hex'), name, role: options.role as SiteRole, created: new Date().toISOString()});
  // The tables file is written last: its presence is what makes the directory a site.
  writeFileAtomic(tablesPath(dir), `${JSON.stringify(tables, null, 2)}\n`);
  return {dir, id: tables.site.id, name, role: tables.site.role};
}

export interface LinkOptions {
  /** For a tls:// remote: the primary's certificate, its key and the CA of the agent's certificate. */
  tls?: {cert: string; key: string; ca: string};
  /**
   * How the remote reaches this site back (restores onto M-VOLs, writes after a
   * failback). A directory link defaults to this site's directory; a link over the
   * wire has none unless given.
   */
  peerAddress?: string;
  /** For a tls:// way back: the remote's certificate, its key and the CA of the primary's agent, as paths on the remote's machine. */
  peerTls?: Partial<TlsPaths>;
}

export async function linkSites(primaryDir: string, remote: string, options: LinkOptions = {}): Promise<LinkRow> {
  // Before either site is touched: the remote is only asked to record a way back it could dial.
  const peerTls = peerTlsOf(options.peerAddress ?? '', options.peerTls);
  const primary = Site.open(primaryDir);
  const tls = options.tls && {cert: path.resolve(options.tls.cert), key: path.resolve(options.tls.key), ca: path.resolve(options.tls.ca)};
  const {link, address, overWire} = await probeRemote(remote, {client: primary.tables().site.id, tls});
  try {
    const far = link.remote;
    if (far.role !== 'remote') throw new WrongRoleError(`site ${far.name} has role ${far.role}; a link must end at a remote site`);
    const back = options.peerAddress ?? (overWire ? '' : primary.dir);
    return await primary.updateAsync(async tables => {
      if (tables.site.id === far.id) throw new InvalidArgumentError('a site cannot link to itself');
      if (tables.link && tables.link.siteId !== far.id && tables.pairs.length > 0) {
        throw new WrongRoleError(`site ${tables.site.name} has pairs on ${tables.link.name}; delete them before linking elsewhere`);
      }
      const linked = new Date().toISOString();
      await link.registerPeer({remote: back, siteId: tables.site.id, name: tables.site.name, linked, ...(peerTls ? {tls: peerTls} : {})});
      tables.link = {remote: address, siteId: far.id, name: far.name, linked, ...(tls ? {tls} : {})};
      return tables.link;
    });
  } finally {
    link.close();
  }
}

export interface SiteView {
  dir: string;
  site: Tables['site'];
  link: LinkRow | null;
  volumes: Tables['volumes'];
  pairs: Tables['pairs'];
  /** The sites that link to this one, each with its way back (at a remote). */
  peers: Tables['peers'];
}

export function showSite(dir: string): SiteView {
  const site = Site.open(dir);
  const tables = site.tables();
  return {dir: site.dir, site: tables.site, link: tables.link, volumes: tables.volumes, pairs: tables.pairs, peers: tables.peers};
}
