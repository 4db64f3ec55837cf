// Restore (patent Fig. 23, claim 4 aside): rebuild R-VOLs of a log group as they
// were at a mark, into a new image file, an unused volume, or the R-VOL itself.
// Everything is validated before the first byte is written; a new file appears
// under its name only when complete.
import fs from 'node:fs';
import path from 'node:path';
import {BaseMismatchError, InvalidArgumentError, TargetError, VolumeInUseError} from '../errors.js';
import {applyLog} from '../log/apply.js';
import {Journal} from '../log/journal.js';
import {findGroup} from '../log/remote-log.js';
import {peerLinkOf} from '../site/link-opener.js';
import {refuseUnfinishedTakeover} from '../takeover/intent.js';
import {VolumeImage} from '../volume/image.js';
import {checkBase, checkRecordsBefore, chooseMark, type LocatedMark, type MarkChoice} from './locate.js';
import {cloneImage, replayUpTo, replayVerifying} from './replay.js';
import {LogScan} from './scan.js';
import {clearAbandonedPartials, clearAbandonedStaging, partialName, stagingFile} from './staging.js';
import {finishAbandonedSet, publishSet} from './file-set.js';
import type {Site} from '../site/site.js';
import {hookPoint} from '../util/test-hooks.js';
import type {Tables} from '../site/tables.js';

export type RestoreTarget = {kind: 'rvol'} | {kind: 'mvol'} | {kind: 'ldev'; ldev: number} | {kind: 'file'; path: string};

export interface RestoreOptions extends MarkChoice {
  group: number;
  rvol?: number;
  target: RestoreTarget;
  /** Required for an in-place restore: it consumes the log up to the mark. */
  force?: boolean;
  dryRun?: boolean;
}

export interface RestoredVolume {
  rvol: number;
  target: string;
  capacity: number;
}

export interface RestoreResult {
  group: number;
  markId: number;
  logId: number;
  markTime: string;
  app: string;
  records: number;
  bytes: number;
  volumes: RestoredVolume[];
  dryRun: boolean;
}

export function parseTarget(text: string | undefined): RestoreTarget {
  if (text === undefined || text === 'rvol') return {kind: 'rvol'};
  const ldev = /^ldev:(\d+)$/.exec(text);
  if (ldev) return {kind: 'ldev', ldev: Number(ldev[1])};
  if (text === 'mvol') return {kind: 'mvol'};
  if (text.length === 0 || text.startsWith('ldev:')) throw new InvalidArgumentError(`target "${text}" must be rvol, ldev:N or a file path`);
  return {kind: 'file', path: path.resolve(text)};
}

function chosenMembers(tables: Tables, options: RestoreOptions, members: number[]): number[] {
  if (options.rvol === undefined) return members;
  if (!members.includes(options.rvol)) {
    throw new InvalidArgumentError(`R-VOL LDEV ${options.rvol} is not in log group ${options.group} at ${tables.site.name} (members: ${members.join(', ')})`);
  }
  return [options.rvol];
}

export async function restoreToMark(site: Site, options: RestoreOptions): Promise<RestoreResult> {
  if (!options.force && !options.dryRun && (options.target.kind === 'rvol' || options.target.kind === 'mvol')) {
    throw new InvalidArgumentError(options.target.kind === 'rvol'
      ? 'an in-place restore rewrites the R-VOLs and consumes the log up to the mark; add --force to go ahead'
      : 'a restore onto the M-VOLs overwrites production data, stops the log group and needs a full resync after; add --force to go ahead');
  }
  const prepared = site.lock.run(() => {
    const tables = site.tables();
    const group = findGroup(site, tables, options.group);
    refuseUnfinishedTakeover(site.dir, group, 'a restore');
    const journal = Journal.open(site, tables, group);
    // A new file is thrown away if the log proves damaged, so its one pass over the
    // data can check and write at once; anything else is checked before it is touched.
    // Nothing after the mark matters to a restore to it: the scan stops there.
    const scan = LogScan.of(journal, {headersOnly: options.target.kind === 'file' && !options.dryRun, untilMark: options.markId});
    const mark = chooseMark(scan, options);
    // In place, the restore is an apply: one cut short at this mark is finished by running it again.
    const resumingInPlace = options.target.kind === 'rvol' && group.applying === mark.logId;
    if (!resumingInPlace) checkBase(site, tables, group, journal);
    const rvols = chosenMembers(tables, options, group.members.map(m => m.rvol));
    const totals = checkRecordsBefore(scan, mark.logId, `mark ${mark.markId}`);
    // A set of images to a directory whose last renames were cut short is finished, not refused.
    const finished = options.target.kind === 'file' && rvols.length > 1 && !options.dryRun
      && finishAbandonedSet(options.target.path, options.group, mark.markId, rvols.map(rvol => setFile(options.target as {path: string}, rvol)));
    const targets = planTargets(site, tables, options, rvols, finished);
    // Staging images left by a restore that died are cleared by the next one.
    if (!options.dryRun) clearAbandonedStaging(site.dir);
    const generations = rvols.map(rvol => site.volume(tables, rvol).generation);
    return {tables, group, scan, mark, rvols, totals, targets, baseGeneration: group.baseGeneration, generations, finished};
  });
  const {mark} = prepared;
  const result: RestoreResult = {
    group: options.group, markId: mark.markId, logId: mark.logId, markTime: new Date(mark.markTime / 1000).toISOString(), app: mark.app,
    records: prepared.totals.records, bytes: prepared.totals.bytes, volumes: prepared.targets, dryRun: Boolean(options.dryRun),
  };
  try {
    return await finishRestore(site, options, prepared, result);
  } finally {
    prepared.scan.dispose();
  }
}

type Prepared = {tables: Tables; scan: LogScan; mark: LocatedMark; rvols: number[]; targets: RestoredVolume[]; baseGeneration: number; generations: number[]; finished: boolean};

async function finishRestore(site: Site, options: RestoreOptions, prepared: Prepared, result: RestoreResult): Promise<RestoreResult> {
  const {mark} = prepared;
  if (options.dryRun || prepared.finished) return result;
  if (options.target.kind === 'rvol') {
    const applied = applyLog(site, options.group, {markId: mark.markId});
    return {...result, records: applied.appliedRecords, bytes: applied.appliedBytes};
  }
  if (options.target.kind === 'mvol') {
    await restoreOntoMvols(site, options, prepared.rvols, mark);
    return result;
  }
  // Built without the site lock, so host writes go on being logged meanwhile. An
  // apply or a resync in between would change the base under the build: each
  // bumps a generation before it changes a byte, so a check after the build that
  // finds every generation as it was proves the bytes read were the base's.
  const tables = prepared.tables;
  const stillTheBase = (i: number) => () => {
    const now = site.tables();
    const group = findGroup(site, now, options.group);
    if (group.baseGeneration !== prepared.baseGeneration || group.applying) {
      throw new BaseMismatchError(`log group ${options.group} was applied while the restore ran; run the restore again`);
    }
    const rvol = prepared.rvols[i];
    if (site.volume(now, rvol).generation !== prepared.generations[i]) {
      throw new BaseMismatchError(`R-VOL LDEV ${rvol} changed (a resync or a direct write) while the restore read it; its log no longer fits it`,
        'start a new log with `marklog log start` after the pair is back in PAIR');
    }
  };
  const files = prepared.targets.map(t => t.target);
  try {
    for (const [i, rvol] of prepared.rvols.entries()) {
      hookPoint('restore:before-build');
      const base = site.image(site.volume(tables, rvol));
      if (options.target.kind === 'ldev') {
        buildVolume(prepared.scan, mark, base, rvol, site.image(site.volume(tables, options.target.ldev)));
      } else {
        clearAbandonedPartials(files[i]);
        buildImage(prepared.scan, mark, base, rvol, partialName(files[i]));
      }
      stillTheBase(i)();
    }
    // All volumes at one mark, or none: a directory with only some of them would pass for a restore.
    if (options.target.kind === 'file') {
      if (files.length === 1) fs.renameSync(partialName(files[0]), files[0]);
      else publishSet(options.target.path, options.group, mark.markId, files);
    }
  } catch (error) {
    if (options.target.kind === 'file') for (const file of files) fs.rmSync(partialName(file), {force: true});
    throw error;
  }
  return result;
}

/** Where the image of one of several volumes goes in a directory target. */
function setFile(target: {path: string}, rvol: number): string {
  return path.join(target.path, `rvol-${String(rvol).padStart(4, '0')}.img`);
}

function planTargets(site: Site, tables: Tables, options: RestoreOptions, rvols: number[], finished = false): RestoredVolume[] {
  const target = options.target;
  return rvols.map(rvol => {
    const capacity = site.volume(tables, rvol).capacity;
    if (target.kind === 'rvol') return {rvol, target: `rvol:${rvol}`, capacity};
    if (target.kind === 'mvol') {
      const group = findGroup(site, tables, options.group);
      const member = group.members.find(m => m.rvol === rvol)!;
      const peer = tables.peers.find(p => p.siteId === group.primarySite);
      return {rvol, target: `${peer?.name ?? group.primarySite}:mvol:${member.mvol}`, capacity};
    }
    if (target.kind === 'ldev') {
      if (rvols.length > 1) throw new InvalidArgumentError('restoring several volumes onto one LDEV is ambiguous; name one with --rvol');
      const row = site.volume(tables, target.ldev);
      if (row.reserve !== 'none' || row.rvolOf || row.pairs.length > 0 || row.logGroup !== null) {
        throw new VolumeInUseError(`LDEV ${target.ldev} at ${tables.site.name} is in use; a restore target must be an unused volume`);
      }
      if (row.capacity < capacity) throw new TargetError(`LDEV ${target.ldev} holds ${row.capacity} bytes; R-VOL ${rvol} needs ${capacity}`);
      return {rvol, target: `ldev:${target.ldev}`, capacity};
    }
    const file = rvols.length > 1 ? setFile(target, rvol) : target.path;
    if (finished) return {rvol, target: file, capacity};
    if (rvols.length > 1 && !fs.existsSync(target.path)) throw new TargetError(`${target.path} must be an existing directory when restoring ${rvols.length} volumes`);
    if (fs.existsSync(file)) throw new TargetError(`${file} exists; a restore never overwrites a file`);
    if (!fs.existsSync(path.dirname(file))) throw new TargetError(`directory ${path.dirname(file)} does not exist`);
    return {rvol, target: file, capacity};
  });
}

/** A new image file holding base + the log up to the mark, on stable storage. */
function buildImage(scan: LogScan, mark: LocatedMark, base: VolumeImage, rvol: number, file: string): void {
  VolumeImage.create(file, base.capacity);
  const image = VolumeImage.open(file, base.capacity);
  try {
    cloneImage(base, image);
    const targets = new Map([[rvol, image]]);
    // Format 2 writes carry block checksums, so a plan from headers checks just the bytes it copies;
    // format 1 writes planned from headers are checked in one streaming pass as they are written.
    if (scan.checkable) replayUpTo(scan, mark.logId, targets, {what: `mark ${mark.markId}`});
    else replayVerifying(scan, mark.logId, targets, `mark ${mark.markId}`);
    image.syncAll();
  } finally {
    image.close();
  }
}

function buildVolume(scan: LogScan, mark: LocatedMark, base: VolumeImage, rvol: number, target: VolumeImage): void {
  cloneImage(base, target);
  replayUpTo(scan, mark.logId, new Map([[rvol, target]]));
  target.syncAll();
}

/**
 * Claim 4: the M-VOLs at the primary go back to the mark. Each image is built
 * here, then sent whole; the group stops logging, since the primary's volumes
 * no longer continue the log.
 */
async function restoreOntoMvols(site: Site, options: RestoreOptions, rvols: number[], mark: LocatedMark): Promise<void> {
  const staged = new Map<number, string>();
  try {
    const {tables, primarySite, members} = site.lock.run(() => {
      const tables = site.tables();
      const group = findGroup(site, tables, options.group);
      const scan = LogScan.of(Journal.open(site, tables, group));
      try {
        for (const rvol of rvols) {
          // Named with this process's ID: if it dies, the next restore (and verify) knows the image is abandoned.
          const staging = stagingFile(site.dir, rvol);
          staged.set(rvol, staging);
          buildImage(scan, mark, site.image(site.volume(tables, rvol)), rvol, staging);
        }
      } finally {
        scan.dispose();
      }
      return {tables, primarySite: group.primarySite, members: group.members};
    });
    // Opened once the lock is let go: only the tables read under it are used.
    const link = await peerLinkOf(site, tables, primarySite);
    hookPoint('restore:staged');
    // Sent without this site's lock held: the primary takes its own lock first, as host writes do.
    for (const [rvol, staging] of staged) await link.receiveImage(members.find(m => m.rvol === rvol)!.mvol, staging, Boolean(options.force));
    site.update(tables => {
      findGroup(site, tables, options.group).mode = 'STOPPED';
    });
  } finally {
    for (const staging of staged.values()) fs.rmSync(staging, {force: true});
  }
}
