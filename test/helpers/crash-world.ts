// The starting state of one crash-harness scenario and the model the harness checks
// it against. The state is built through the library (fast; it is not what is under
// test), saved once, and put back in place before each kill point: the tables hold
// absolute paths, so the tree always lives at the same place.
//
// The model says what every image file must hold (M-VOLs, R-VOLs, restore targets)
// and what each R-VOL must be when restored to each mark. A scenario states how the
// command it kills changes that model when it completes.
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {BIN, type CliResult} from './cli.js';
import {exited} from './processes.js';
import {initSite, linkSites} from '../../src/site/site-admin.js';
import {Site} from '../../src/site/site.js';
import {createVolume} from '../../src/volume/volume-admin.js';
import {createPair} from '../../src/pair/pair-create.js';
import {startLogging} from '../../src/log/log-start.js';
import {hostWrite} from '../../src/io/host-io.js';
import {issueMark} from '../../src/mark/mark.js';
import {suspendPair} from '../../src/pair/pair-control.js';
import {takeover} from '../../src/takeover/takeover.js';
import {reverseResync} from '../../src/takeover/failback.js';

export type Images = Map<string, Buffer>;

export interface Model {
  /** What each image file holds (path relative to the root) once the host's acknowledged writes are in. */
  images: Images;
  /** For each listed mark: what each R-VOL (LDEV at the remote) holds restored to it. */
  marks: Map<number, Map<number, Buffer>>;
  /** The log group's members: M-VOL at the primary, R-VOL at the remote. */
  members: {mvol: number; rvol: number}[];
}

export function cloneModel(model: Model): Model {
  return {
    images: new Map([...model.images].map(([file, data]) => [file, Buffer.from(data)])),
    marks: new Map([...model.marks].map(([id, volumes]) => [id, new Map([...volumes].map(([rvol, data]) => [rvol, Buffer.from(data)]))])),
    members: model.members.map(m => ({...m})),
  };
}

export function imageName(site: 'p' | 'r', ldev: number): string {
  return `${site}/volumes/ldev-${String(ldev).padStart(4, '0')}.img`;
}

/** The image every R-VOL of the group holds at this moment of the host's history. */
export function markImages(model: Model): Map<number, Buffer> {
  return new Map(model.members.map(m => [m.rvol, Buffer.from(model.images.get(imageName('p', m.mvol))!)]));
}

export class CrashWorld {
  readonly p: string;
  readonly r: string;
  readonly model: Model = {images: new Map(), marks: new Map(), members: []};
  private primarySite: Site | undefined;
  private remoteSite: Site | undefined;
  private readonly saved: string;

  /** `root` must not exist yet; `${root}.start` keeps the saved state. */
  constructor(readonly root: string) {
    this.p = path.join(root, 'p');
    this.r = path.join(root, 'r');
    this.saved = `${root}.start`;
    fs.mkdirSync(root, {recursive: true});
  }

  get primary(): Site {
    this.primarySite ??= Site.open(this.p);
    return this.primarySite;
  }

  get remote(): Site {
    this.remoteSite ??= Site.open(this.r);
    return this.remoteSite;
  }

  async sites(linked = true): Promise<this> {
    initSite({dir: this.p, role: 'primary'});
    initSite({dir: this.r, role: 'remote'});
    if (linked) await linkSites(this.p, this.r);
    return this;
  }

  volume(at: 'p' | 'r', capacity: number, pool = false): number {
    const {ldev} = createVolume(at === 'p' ? this.primary : this.remote, capacity, pool);
    if (!pool) this.model.images.set(imageName(at, ldev), Buffer.alloc(capacity));
    return ldev;
  }

  /** Writes into an image as another program would (no pair sees it): for volumes still SMPL. */
  fill(file: string, offset: number, data: Buffer): void {
    const fd = fs.openSync(path.join(this.root, file), 'r+');
    fs.writeSync(fd, data, 0, data.length, offset);
    fs.closeSync(fd);
    data.copy(this.model.images.get(file)!, offset);
  }

  async pair(mvol: number, rvol: number): Promise<number> {
    const {pair} = await createPair(this.primary, {mvol, rvol});
    this.model.images.set(imageName('r', rvol), Buffer.from(this.model.images.get(imageName('p', mvol))!));
    return pair;
  }

  async suspend(pair: number): Promise<void> {
    await suspendPair(this.primary, pair);
  }

  async logStart(pairs: number[], members: {mvol: number; rvol: number}[], group = 1): Promise<void> {
    await startLogging(this.primary, {pairs, group});
    this.model.members = members;
  }

  /** A host write at the primary; `mirrored` names the R-VOL that gets it too (a pair in PAIR). */
  async write(mvol: number, offset: number, data: Buffer, mirrored?: number): Promise<void> {
    await hostWrite(this.primary, mvol, offset, data);
    data.copy(this.model.images.get(imageName('p', mvol))!, offset);
    if (mirrored !== undefined) data.copy(this.model.images.get(imageName('r', mirrored))!, offset);
  }

  async mark(): Promise<number> {
    const {markId} = await issueMark(this.primary, {app: 'crash'});
    this.model.marks.set(markId, markImages(this.model));
    return markId;
  }

  /** Takeover at a mark: the R-VOLs become that mark's image and take host writes at the remote. */
  takeover(markId: number): void {
    takeover(this.remote, {group: 1, mark: markId});
    for (const [rvol, data] of this.model.marks.get(markId)!) this.model.images.set(imageName('r', rvol), Buffer.from(data));
    this.model.marks.clear();
  }

  /** Failback of one pair (resync --reverse): its M-VOL becomes its R-VOL's image, and the R-VOL the source. */
  async failback(pair: number, mvol: number, rvol: number): Promise<void> {
    await reverseResync(this.primary, pair);
    this.model.images.set(imageName('p', mvol), Buffer.from(this.model.images.get(imageName('r', rvol))!));
  }

  /** A host write at the remote after a takeover. */
  async remoteWrite(rvol: number, offset: number, data: Buffer): Promise<void> {
    await hostWrite(this.remote, rvol, offset, data);
    data.copy(this.model.images.get(imageName('r', rvol))!, offset);
  }

  /** Closes the library's handles and keeps a copy of the tree (sparse, same paths). */
  save(): void {
    this.primarySite?.close();
    this.remoteSite?.close();
    this.primarySite = undefined;
    this.remoteSite = undefined;
    copyTree(this.root, this.saved);
  }

  /** Puts the saved tree back in place. */
  reset(): void {
    fs.rmSync(this.root, {recursive: true, force: true});
    copyTree(this.saved, this.root);
  }

  dispose(): void {
    fs.rmSync(this.root, {recursive: true, force: true});
    fs.rmSync(this.saved, {recursive: true, force: true});
  }
}

function copyTree(from: string, to: string): void {
  fs.rmSync(to, {recursive: true, force: true});
  const done = spawnSync('cp', ['-a', '--sparse=always', from, to]);
  if (done.status !== 0) throw new Error(`cp ${from} ${to}: ${done.stderr.toString()}`);
}

/** Runs the real CLI without blocking the event loop (the harness runs several scenarios at once). */
export async function cliAsync(args: string[], input: Buffer | string = ''): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], {env: {...process.env, MARKLOG_LINK_RETRIES: '1'}, stdio: ['pipe', 'pipe', 'pipe']});
  const exit = exited(child);
  child.stdin.on('error', () => undefined);
  child.stdin.end(input);
  const {code, stdout, stderr} = await exit;
  return {code: code ?? -1, stdout, stderr};
}

/** The JSON a command printed, or its error object; undefined when it printed none. */
export function parsed(result: CliResult): any {
  try {
    return JSON.parse(result.stdout);
  } catch {
    return undefined;
  }
}

/** Files a finished command must never leave behind: table and registry temporaries, partial restores, staging images. */
export const TEMPORARY = [/\.tmp-\d+$/, /\.partial-\d+$/, /^restore-\d+-\d+\.img$/];

export function temporariesUnder(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, {withFileTypes: true})) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (TEMPORARY.some(pattern => pattern.test(entry.name))) found.push(path.relative(root, full));
    }
  };
  walk(root);
  return found;
}
