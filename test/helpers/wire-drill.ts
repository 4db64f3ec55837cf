// The whole flow of the patent through the real CLI with the remote on the far side of
// a link (issue 15, item 6), as one drill every transport runs: pair create over the
// link, log start, host writes and marks, the log and its marks seen at the remote,
// restores at sampled marks (Fig. 23), a restore onto the M-VOLs (claim 4: the way
// back), takeover at the last mark with a write after it dropped (Fig. 22), the
// primary's write refused as TAKEN_OVER, writes at the remote, failback, a write at
// the remote reaching the M-VOL (the way back again), the swap back, journaling again
// on a new base, and verify at both sites. It is parameterised by where each site's
// commands run (this namespace, a remote machine, the primary's namespace: a
// WrappedCommands) and by how the primary links (site link's flags, once whatever the
// link needs has started), so the transports differ in nothing else. Volumes and
// restored images are compared by digest, each computed where its site is: the
// remote's directory may exist only inside its machine.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type {ExecutionContext} from 'ava';
import {Host, digest, type MarkResult, type WriteResult} from './logging.js';
import {imagePath} from './sites.js';
import type {WrappedCommands} from './wrapped-commands.js';

const KiB = 1024;
const CAPACITY = 1024 * KiB;
const CHUNK = 64 * KiB;
const GROUP = '1';

export interface DrillSite {
  /** The site's directory, as its own commands see it. */
  dir: string;
  /** Where its commands run. */
  at: WrappedCommands;
  /** Added to the environment of every marklog command run there (MARKLOG_SSH for the link, or for the way back). */
  env?: NodeJS.ProcessEnv;
  /** A directory its commands may write restored images into (made by the drill). */
  scratch: string;
}

export interface DrillOptions {
  primary: DrillSite;
  remote: DrillSite;
  /** Called once both sites exist: starts what the link needs (an agent that listens) and returns `site link`'s flags after --site. */
  link(): Promise<string[]> | string[];
  /** A directory of the ordinary file system, readable from every namespace, for the data files the writes hand over. */
  data: string;
}

export interface DrillReport {
  /** Host writes acknowledged at the primary, and writes made at the remote. */
  primaryWrites: number;
  remoteWrites: number;
  marks: number;
  /** Bytes the failback copied to the M-VOLs, per pair. */
  failbackBytes: number[];
  ms: number;
}

/** One site's side of the drill: marklog there, and digests of files as that side sees them. */
class Side {
  constructor(readonly site: DrillSite) {}

  json<T = any>(args: string[]): Promise<T> {
    return this.site.at.marklogJsonAsync<T>(args, {env: this.site.env});
  }

  /** A command that must fail: its exit code and error code (SUCCEEDED when it did not fail). */
  async fails(args: string[]): Promise<{exitCode: number; code: string}> {
    const result = await this.site.at.marklogAsync([...args, '--json'], {env: this.site.env});
    if (result.code === 0) return {exitCode: 0, code: 'SUCCEEDED'};
    let code: string;
    try {
      code = JSON.parse(result.stdout).error.code;
    } catch {
      code = `NO_JSON_ERROR: ${result.stdout}${result.stderr}`;
    }
    return {exitCode: result.code, code};
  }

  async digestOf(file: string): Promise<string> {
    const result = await this.site.at.runAsync(['sha256sum', file]);
    if (result.code !== 0) throw new Error(`sha256sum ${file} exited ${result.code}: ${result.stderr}`);
    return result.stdout.split(' ')[0];
  }

  volume(ldev: number): Promise<string> {
    return this.digestOf(imagePath(this.site.dir, ldev));
  }

  async mkdir(dir: string): Promise<void> {
    const result = await this.site.at.runAsync(['mkdir', '-p', dir]);
    if (result.code !== 0) throw new Error(`mkdir ${dir}: ${result.stderr}`);
  }

  async verify(extra: string[] = []): Promise<{code: number; output: string}> {
    const result = await this.site.at.marklogAsync(['verify', '--site', this.site.dir, ...extra], {env: this.site.env});
    return {code: result.code, output: result.stdout + result.stderr};
  }
}

/** Runs the whole flow; every step asserts on `t`. Commands run without blocking, so drills in one file overlap. */
export async function wireDrill(t: ExecutionContext, options: DrillOptions): Promise<DrillReport> {
  const started = Date.now();
  const primary = new Side(options.primary);
  const remote = new Side(options.remote);
  const P = options.primary.dir;
  const R = options.remote.dir;
  const report: DrillReport = {primaryWrites: 0, remoteWrites: 0, marks: 0, failbackBytes: [], ms: 0};

  await primary.json(['site', 'init', P, '--role', 'primary']);
  await remote.json(['site', 'init', R, '--role', 'remote']);
  const mvols: number[] = [];
  const rvols: number[] = [];
  for (let i = 0; i < 2; i++) {
    mvols.push((await primary.json<{ldev: number}>(['volume', 'create', '--site', P, '--size', '1M'])).ldev);
    rvols.push((await remote.json<{ldev: number}>(['volume', 'create', '--site', R, '--size', '1M'])).ldev);
  }
  await remote.json(['volume', 'create', '--site', R, '--size', '4M', '--pool']);
  const hostData = path.join(options.data, 'host-data');
  fs.mkdirSync(hostData, {recursive: true});
  const host = new Host(P, Number(GROUP), new Map(mvols.map(mvol => [mvol, Buffer.alloc(CAPACITY)])), hostData);
  // The host's writes and marks run where the primary's commands run; the model takes each once it is acknowledged.
  const hostWrite = async (mvol: number, offset: number, data: Buffer): Promise<WriteResult> => {
    const result = await primary.json<WriteResult>(host.writeArgs(mvol, offset, data));
    host.landed(mvol, offset, data);
    return result;
  };
  const write = (mvol: number, offset: number, length: number): Promise<WriteResult> => {
    report.primaryWrites++;
    return hostWrite(mvol, offset, crypto.randomBytes(length));
  };
  const mark = async (): Promise<MarkResult> => {
    const result = await primary.json<MarkResult>(host.markArgs('db'));
    host.took(result);
    report.marks++;
    return result;
  };
  // Bases that are not zeros, so a volume left unwritten by a step cannot pass for a copied one.
  for (const mvol of mvols) await hostWrite(mvol, 0, crypto.randomBytes(CAPACITY));

  const linked = await primary.json<{remote: string; name: string}>(['site', 'link', '--site', P, ...await options.link()]);
  t.is(linked.name, path.basename(R), 'the primary reached the remote site');
  t.false(linked.remote.startsWith('/'), `linked over the wire, not to a directory: ${linked.remote}`);

  // Fig. 14 over the link: each pair's copy makes its R-VOL the M-VOL.
  const pairs: number[] = [];
  for (const [i, mvol] of mvols.entries()) {
    const created = await primary.json<{pair: number; state: string; copiedBytes: number}>(['pair', 'create', '--site', P, '--mvol', String(mvol), '--rvol', String(rvols[i])]);
    t.is(created.state, 'PAIR');
    t.is(created.copiedBytes, CAPACITY);
    t.is(await remote.volume(rvols[i]), digest(host.now(mvol)), `R-VOL ${rvols[i]} is its M-VOL after the copy`);
    pairs.push(created.pair);
  }
  const mvolOf = (rvol: number) => mvols[rvols.indexOf(rvol)];
  const logStart = () => primary.json(['log', 'start', '--site', P, '--pairs', pairs.join(','), '--group', GROUP]);
  await logStart();

  // Production: writes on both M-VOLs (one of each round across a chunk boundary), a mark after each round.
  const marks: MarkResult[] = [];
  for (let round = 0; round < 3; round++) {
    await write(mvols[round % 2], (round * 3 + 1) * CHUNK + 512, 8 * KiB);
    await write(mvols[(round + 1) % 2], (round * 3 + 2) * CHUNK - 4 * KiB, 8 * KiB);
    marks.push(await mark());
  }

  // At the remote, against its own directory: the log holds every write and mark.
  const status = (await remote.json(['log', 'status', '--site', R, '--group', GROUP])).groups[0];
  t.is(status.mode, 'LOG');
  t.is(status.usage.records, 9, 'six writes and three marks');
  const listed = (await remote.json(['mark', 'list', '--site', R, '--group', GROUP])).groups[0].marks;
  t.deepEqual(listed.map((m: {markId: number}) => m.markId), marks.map(m => m.markId));

  // Fig. 23 at the remote: the first and the last mark restore exactly, both volumes at once.
  const restoreAt = async (markId: number) => {
    const to = path.join(options.remote.scratch, `mark-${markId}`);
    await remote.mkdir(to);
    const restored = await remote.json<{volumes: {rvol: number; target: string}[]}>(['restore', '--site', R, '--group', GROUP, '--mark', String(markId), '--to', to]);
    t.deepEqual(restored.volumes.map(v => v.rvol), rvols);
    for (const volume of restored.volumes) t.is(await remote.digestOf(volume.target), digest(host.atMark(markId, mvolOf(volume.rvol))), `R-VOL ${volume.rvol} at mark ${markId}`);
  };
  await restoreAt(marks[0].markId);
  await restoreAt(marks[2].markId);

  // Claim 4, over the way back: the M-VOLs at the primary go back to the middle mark; the group stops.
  const onto = await remote.json<{volumes: unknown[]}>(['restore', '--site', R, '--group', GROUP, '--mark', String(marks[1].markId), '--to', 'mvol', '--force']);
  t.is(onto.volumes.length, 2);
  for (const mvol of mvols) {
    host.reset(mvol, host.atMark(marks[1].markId, mvol));
    t.is(await primary.volume(mvol), digest(host.now(mvol)), `M-VOL ${mvol} is back at mark ${marks[1].markId}`);
  }
  t.is((await remote.json(['log', 'status', '--site', R, '--group', GROUP])).groups[0].mode, 'STOPPED');
  // The M-VOLs changed under their pairs: a full resync, then a new base.
  for (const pair of pairs) {
    const resync = await primary.json<{state: string; copiedBytes: number}>(['pair', 'resync', '--site', P, '--pair', String(pair)]);
    t.is(resync.state, 'PAIR');
    t.is(resync.copiedBytes, CAPACITY);
  }
  await logStart();

  // More production, the last mark, then a write after it (garbage from a failing site).
  await write(mvols[0], 4 * CHUNK, 4 * KiB);
  await write(mvols[1], 5 * CHUNK + 100, 4 * KiB);
  const last = await mark();
  await write(mvols[0], 10 * CHUNK, 8 * KiB);

  // Fig. 22: takeover at the remote at the last mark, with nothing asked of the primary.
  const taken = await remote.json(['takeover', '--site', R, '--group', GROUP, '--mark', 'latest']);
  t.is(taken.markId, last.markId);
  t.is(taken.droppedRecords, 1, 'the write after the mark is dropped');
  t.deepEqual(taken.volumes.map((v: {state: string}) => v.state), ['SSWS', 'SSWS']);
  const atRemote = mvols.map(mvol => Buffer.from(host.atMark(last.markId, mvol)));
  for (const [i, rvol] of rvols.entries()) t.is(await remote.volume(rvol), digest(atRemote[i]), `R-VOL ${rvol} is the last mark`);

  // No split brain: the primary's write is refused over the link (kept on its M-VOL, tracked for failback).
  t.deepEqual(await primary.fails(host.writeArgs(mvols[1], 12 * CHUNK, crypto.randomBytes(4 * KiB))), {exitCode: 4, code: 'TAKEN_OVER'});

  // Hosts write at the remote now; its bitmap tracks them for failback.
  const writeAtRemote = async (i: number, offset: number, length: number): Promise<WriteResult> => {
    const data = crypto.randomBytes(length);
    const file = path.join(options.data, `remote-write-${++report.remoteWrites}.bin`);
    fs.writeFileSync(file, data);
    const result = await remote.json<WriteResult>(['write', '--site', R, '--vol', String(rvols[i]), '--offset', String(offset), '--file', file]);
    data.copy(atRemote[i], offset);
    return result;
  };
  await writeAtRemote(0, 3 * CHUNK, 16 * KiB);
  await writeAtRemote(1, 14 * CHUNK + 100, 4 * KiB);

  // Failback from the primary: the union of both sites' changes goes to the M-VOLs, and the roles swap.
  for (const pair of pairs) {
    const failback = await primary.json<{state: string; direction: string; copiedBytes: number}>(['pair', 'resync', '--site', P, '--pair', String(pair), '--reverse']);
    t.is(failback.state, 'PAIR');
    t.is(failback.direction, 'reverse');
    report.failbackBytes.push(failback.copiedBytes);
  }
  for (const [i, mvol] of mvols.entries()) {
    host.reset(mvol, atRemote[i]);
    t.is(await primary.volume(mvol), digest(atRemote[i]), `M-VOL ${mvol} = the R-VOL after failback`);
    t.is(await remote.volume(rvols[i]), digest(atRemote[i]), `R-VOL ${rvols[i]} holds every write made at the remote`);
  }
  // Reversed: a write at the remote reaches the M-VOL before it returns; the M-VOL takes no host writes.
  t.deepEqual((await writeAtRemote(0, 6 * CHUNK, 4 * KiB)).warnings, [], 'the way back carried the write');
  host.reset(mvols[0], atRemote[0]);
  t.is(await primary.volume(mvols[0]), digest(atRemote[0]), 'the M-VOL got the remote\'s write');
  t.is((await primary.fails(host.writeArgs(mvols[0], 0, Buffer.from('x')))).exitCode, 4);

  // Back to the primary: resync --reverse again swaps the roles, and the group journals again on a new base.
  for (const pair of pairs) t.is((await primary.json(['pair', 'resync', '--site', P, '--pair', String(pair), '--reverse'])).direction, 'forward');
  await logStart();
  const newBase = mvols.map(mvol => host.now(mvol));
  await write(mvols[1], 7 * CHUNK, 8 * KiB);
  await write(mvols[0], 9 * CHUNK, 8 * KiB);
  const again = await mark();
  await restoreAt(again.markId);

  // The end: every acknowledged write is on the M-VOLs, the last mark restores them, both sites verify clean.
  for (const mvol of mvols) t.is(await primary.volume(mvol), digest(host.now(mvol)), `M-VOL ${mvol} holds every acknowledged write`);
  for (const [i, rvol] of rvols.entries()) t.is(await remote.volume(rvol), digest(newBase[i]), `R-VOL ${rvol} is the new base; the log holds what came after`);
  const verifyPrimary = await primary.verify(['--deep']);
  t.is(verifyPrimary.code, 0, verifyPrimary.output);
  const verifyRemote = await remote.verify();
  t.is(verifyRemote.code, 0, verifyRemote.output);
  report.ms = Date.now() - started;
  return report;
}
