// The management tables of one site (patent Figs. 6 and 7): one JSON document,
// human-readable and versioned, replaced atomically under the site lock.
import {CorruptTablesError} from '../errors.js';

export const TABLES_FORMAT = 1;

export type SiteRole = 'primary' | 'remote';
export type VolumeState = 'NORMAL' | 'BLOCKED';
export type Reserve = 'none' | 'R-VOL' | 'LOG' | 'POOL';
export type PairState = 'SMPL' | 'COPY' | 'PAIR' | 'PSUS' | 'PSUE' | 'SSWS';

export const SITE_ROLES: readonly SiteRole[] = ['primary', 'remote'];
export const PAIR_STATES: readonly PairState[] = ['SMPL', 'COPY', 'PAIR', 'PSUS', 'PSUE', 'SSWS'];
const RESERVES: readonly Reserve[] = ['none', 'R-VOL', 'LOG', 'POOL'];

export interface SiteIdentity {
  id: string;
  name: string;
  role: SiteRole;
  created: string;
}

export interface LinkRow {
  /** Where the remote site is reached: for the local transport, its directory. */
  remote: string;
  siteId: string;
  name: string;
  linked: string;
  /** For a tls:// remote: the client certificate, its key and the CA the agent's certificate must chain to (absolute paths). */
  tls?: {cert: string; key: string; ca: string};
}

/** Which pair an R-VOL belongs to, recorded at the remote site. */
export interface RvolClaim {
  pair: number;
  primarySite: string;
  mvol: number;
  /** Set by takeover (Fig. 22): the R-VOL is writable here and this bitmap tracks what hosts change. */
  takeover?: TakeoverState | null;
  /** 'reverse' after failback: this volume is the source and its M-VOL follows it. */
  direction?: PairDirection;
}

export type PairDirection = 'forward' | 'reverse';

export interface TakeoverState {
  group: number;
  since: string;
  /** The mark the takeover brought the R-VOL to; null for the end of the log (absent before it was recorded). */
  markId?: number | null;
  bitmap: string;
  chunkSize: number;
  /** Failback's hand-over (see remote-failback.ts): the last token issued, and whether its ranges are still held. */
  handover?: {bitmap: string; token: number; open: boolean} | null;
}

export interface VolumeRow {
  ldev: number;
  id: string;
  hostType: string;
  pathDefined: boolean;
  state: VolumeState;
  reserve: Reserve;
  pairs: number[];
  logGroup: number | null;
  capacity: number;
  /** Image file: relative to the site directory, or absolute for an imported image. */
  image: string;
  rvolOf: RvolClaim | null;
  /** Bumped whenever the volume changes other than by marklog's own log apply (a base check). */
  generation: number;
}

export interface PairRow {
  pair: number;
  mvol: number;
  rvol: {site: string; name: string; ldev: number};
  state: PairState;
  chunkSize: number;
  bitmap: string;
  created: string;
  /** The log group whose log receives this pair's writes while it is suspended, if any. */
  logGroup: number | null;
  /** 'reverse' after failback: the R-VOL is the source, the M-VOL follows it. */
  direction?: PairDirection;
  /** Why the pair fell to PSUE: the error code of the failed copy or log append. */
  suspendedBy?: string | null;
}

/** What a takeover decided before it changed anything, so a rerun finishes the same takeover. */
export interface TakeoverIntent {
  /** The mark taken over at; null for the whole log. */
  markId: number | null;
  /** Every record below this log ID is applied; the rest is dropped. */
  upto: number;
  appliedRecords: number;
  droppedRecords: number;
  since: string;
}

export type LogMode = 'LOG' | 'STOPPED';

export interface LogMember {
  rvol: number;
  mvol: number;
  pair: number;
}

/** A log group (patent Fig. 8) as the site holding its log sees it. */
export interface LogGroupRow {
  group: number;
  mode: LogMode;
  primarySite: string;
  members: LogMember[];
  /** Log volumes (LDEVs reserved LOG), in the order records fill them. */
  logVolumes: number[];
  /** Stamped at log start and at every apply; every log header must carry it. */
  baseGeneration: number;
  /** Each member R-VOL's generation when the base was taken, by LDEV. */
  memberGenerations: Record<string, number>;
  /** Free-space alert threshold as a used fraction (Fig. 21). */
  threshold: number;
  alertCommand: string | null;
  alertRaised: boolean;
  full: boolean;
  created: string;
  /** Set while a log apply is under way: the log ID it applies up to. */
  applying?: number | null;
  /** When the group's R-VOLs were taken over (Fig. 22), if they were. */
  takenOver?: string | null;
  /** Set first by a takeover and cleared by its last step: a rerun (or any command) sees one cut short. */
  takingOver?: TakeoverIntent | null;
  /** The highest mark ID the log has ever taken: a mark ID is never used twice. */
  lastMarkId?: number;
  /** The first write of the group this log never received, since log start: no mark may follow it. */
  gap?: LoggedGap | null;
}

/**
 * A host write of a logging group that never became a log record (the remote was
 * gone, the log was full, the pair was not logging). Every mark after it would
 * promise an image the log cannot rebuild, so none is taken until `log start`.
 */
export interface LogGap {
  group: number;
  pair: number;
  mvol: number;
  /** When the primary (or the log's site) saw the write go unlogged. */
  time: string;
  /** The error code of the failed append, or the pair state the write met. */
  reason: string;
  /** The last log ID before the lost write; known once the log's site recorded the gap. */
  afterLogId?: number;
}

export type LoggedGap = LogGap & {afterLogId: number};

/** The host's mark registry for one group (patent: mark ID info 241). */
export interface HostMark {
  markId: number;
  time: string;
  app: string;
  logId: number;
}

export interface Tables {
  format: typeof TABLES_FORMAT;
  site: SiteIdentity;
  link: LinkRow | null;
  volumes: VolumeRow[];
  pairs: PairRow[];
  groups: LogGroupRow[];
  /** Sites that link to this one (a remote's primaries): the way back, for restores onto an M-VOL and takeover. */
  peers: LinkRow[];
  /** At a primary: writes of its log groups that never reached their log, one per group, until `log start`. */
  logGaps?: LogGap[];
  next: {ldev: number; pair: number};
}

export function emptyTables(site: SiteIdentity): Tables {
  return {format: TABLES_FORMAT, site, link: null, volumes: [], pairs: [], groups: [], peers: [], next: {ldev: 0, pair: 1}};
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks the shape of a parsed tables document; any deviation is corruption, never guessed at. */
export function validateTables(value: unknown, file: string): Tables {
  const fail = (why: string): never => {
    throw new CorruptTablesError(`${file}: ${why}`, 'restore the file from a backup or run `marklog verify`');
  };
  if (!isObject(value)) fail('not a JSON object');
  const doc = value as Record<string, unknown>;
  // Tables written before log groups, peers and volume generations existed.
  doc.groups ??= [];
  doc.peers ??= [];
  if (Array.isArray(doc.volumes)) for (const v of doc.volumes) if (isObject(v)) v.generation ??= 0;
  if (doc.format !== TABLES_FORMAT) fail(`unknown format ${JSON.stringify(doc.format)} (this marklog reads ${TABLES_FORMAT})`);
  const site = doc.site;
  if (!isObject(site) || typeof site.id !== 'string' || typeof site.name !== 'string' || typeof site.created !== 'string'
    || !SITE_ROLES.includes(site.role as SiteRole)) {
    fail('site identity is damaged');
  }
  const linkOk = (l: unknown) => isObject(l) && ['remote', 'siteId', 'name', 'linked'].every(k => typeof l[k] === 'string')
    && (l.tls === undefined || (isObject(l.tls) && ['cert', 'key', 'ca'].every(k => typeof (l.tls as Record<string, unknown>)[k] === 'string')));
  if (doc.link !== null && !linkOk(doc.link)) {
    fail('link is damaged');
  }
  if (!Array.isArray(doc.volumes)) fail('volume table is missing');
  for (const [i, v] of (doc.volumes as unknown[]).entries()) {
    if (!isObject(v) || !isCount(v.ldev) || !isCount(v.capacity) || (v.capacity as number) % 512 !== 0 || (v.capacity as number) === 0 || typeof v.image !== 'string' || typeof v.id !== 'string' || typeof v.hostType !== 'string'
      || !RESERVES.includes(v.reserve as Reserve) || !Array.isArray(v.pairs) || !v.pairs.every(isCount) || !isCount(v.generation)
      || (v.state !== 'NORMAL' && v.state !== 'BLOCKED') || typeof v.pathDefined !== 'boolean' || !(v.logGroup === null || isCount(v.logGroup))
      || !(v.rvolOf === null || (isObject(v.rvolOf) && isCount(v.rvolOf.pair) && isCount(v.rvolOf.mvol) && typeof v.rvolOf.primarySite === 'string'
        && (v.rvolOf.takeover == null || (isObject(v.rvolOf.takeover) && typeof v.rvolOf.takeover.bitmap === 'string'))))) {
      fail(`volume table row ${i} is damaged`);
    }
  }
  if (!Array.isArray(doc.pairs)) fail('pair table is missing');
  for (const [i, p] of (doc.pairs as unknown[]).entries()) {
    if (!isObject(p) || !isCount(p.pair) || !isCount(p.mvol) || !isObject(p.rvol) || !isCount(p.rvol.ldev) || typeof p.rvol.site !== 'string'
      || typeof p.rvol.name !== 'string' || typeof p.created !== 'string'
      || !PAIR_STATES.includes(p.state as PairState) || !isCount(p.chunkSize) || typeof p.bitmap !== 'string'
      || !(p.logGroup === null || isCount(p.logGroup)) || !(p.direction == null || p.direction === 'forward' || p.direction === 'reverse')) {
      fail(`pair table row ${i} is damaged`);
    }
  }
  if (!Array.isArray(doc.groups)) fail('log group table is missing');
  const intentOk = (i: unknown) => isObject(i) && (i.markId === null || isCount(i.markId)) && isCount(i.upto) && isCount(i.appliedRecords)
    && isCount(i.droppedRecords) && typeof i.since === 'string';
  for (const [i, g] of (doc.groups as unknown[]).entries()) {
    if (isObject(g) && g.takingOver != null && !intentOk(g.takingOver)) fail(`log group table row ${i} has a damaged takeover intent`);
  }
  for (const [i, g] of (doc.groups as unknown[]).entries()) {
    if (!isObject(g) || !isCount(g.group) || !Array.isArray(g.members) || !Array.isArray(g.logVolumes) || !g.logVolumes.every(isCount)
      || !g.members.every(m => isObject(m) && isCount(m.rvol) && isCount(m.mvol) && isCount(m.pair))
      || !isObject(g.memberGenerations) || !Object.values(g.memberGenerations).every(isCount)
      || !isCount(g.baseGeneration) || (g.mode !== 'LOG' && g.mode !== 'STOPPED')
      || typeof g.threshold !== 'number' || !(g.threshold > 0 && g.threshold <= 1)
      || typeof g.alertRaised !== 'boolean' || typeof g.full !== 'boolean' || !(g.alertCommand === null || typeof g.alertCommand === 'string')
      || typeof g.primarySite !== 'string' || !(g.applying == null || isCount(g.applying)) || typeof g.created !== 'string') {
      fail(`log group table row ${i} is damaged`);
    }
  }
  const gapOk = (gap: unknown, logged: boolean) => isObject(gap) && isCount(gap.group) && isCount(gap.pair) && isCount(gap.mvol)
    && typeof gap.time === 'string' && typeof gap.reason === 'string' && (logged ? isCount(gap.afterLogId) : gap.afterLogId === undefined || isCount(gap.afterLogId));
  for (const [i, g] of (doc.groups as Record<string, unknown>[]).entries()) {
    if (g.gap != null && !gapOk(g.gap, true)) fail(`log group table row ${i} has a damaged gap`);
  }
  if (doc.logGaps !== undefined && !(Array.isArray(doc.logGaps) && doc.logGaps.every(gap => gapOk(gap, false)))) fail('log gap table is damaged');
  if (!Array.isArray(doc.peers) || !(doc.peers as unknown[]).every(linkOk)) {
    fail('peer table is damaged');
  }
  if (!isObject(doc.next) || !isCount(doc.next.ldev) || !isCount(doc.next.pair)) fail('counters are damaged');
  return doc as unknown as Tables;
}
