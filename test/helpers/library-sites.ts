// A primary and a remote built through the library (no CLI processes): for tests
// that drive the library in this process or in helper programs.
import path from 'node:path';
import type {ExecutionContext} from 'ava';
import {tempDir} from './sites.js';
import {initSite, linkSites} from '../../src/site/site-admin.js';
import {Site} from '../../src/site/site.js';
import {createVolume} from '../../src/volume/volume-admin.js';
import {createPair} from '../../src/pair/pair-create.js';
import {startLogging} from '../../src/log/log-start.js';

export interface LibrarySites {
  root: string;
  /** Directories of the two sites. */
  p: string;
  r: string;
  primary: Site;
  remote: Site;
}

export async function librarySites(t: ExecutionContext): Promise<LibrarySites> {
  const root = tempDir(t);
  const p = path.join(root, 'p');
  const r = path.join(root, 'r');
  initSite({dir: p, role: 'primary'});
  initSite({dir: r, role: 'remote'});
  await linkSites(p, r);
  const primary = Site.open(p);
  const remote = Site.open(r);
  t.teardown(() => {
    primary.close();
    remote.close();
  });
  return {root, p, r, primary, remote};
}

/** One pair (M-VOL and R-VOL of `capacity`) in log mode, with a pool volume of `logCapacity` as its log. */
export async function loggedPair(t: ExecutionContext, capacity: number, logCapacity = 256 * 1024 * 1024) {
  const sites = await librarySites(t);
  const mvol = createVolume(sites.primary, capacity).ldev;
  const rvol = createVolume(sites.remote, capacity).ldev;
  createVolume(sites.remote, logCapacity, true);
  await createPair(sites.primary, {mvol, rvol});
  const {group} = await startLogging(sites.primary, {pairs: [1], group: 1});
  return {...sites, mvol, rvol, group};
}
