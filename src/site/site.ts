// A site (patent: storage system 3 or 4) is a directory: management tables, a lock,
// volume images and pair bitmaps. A Site object is one process's handle on it.
import fs from 'node:fs';
import path from 'node:path';
import {SiteNotFoundError, VolumeNotFoundError, PairNotFoundError, CorruptTablesError} from '../errors.js';
import {FileLock} from '../util/lock.js';
import {writeFileAtomic} from '../util/atomic-file.js';
import {lockPath, tablesPath, resolveInSite} from './layout.js';
import {validateTables, type Tables, type VolumeRow, type PairRow} from './tables.js';
import {VolumeImage} from '../volume/image.js';

export class Site {
  readonly lock: FileLock;
  private cache: {key: string; hold: number; json: string; frozen: Tables} | undefined;
  private readonly images = new Map<string, VolumeImage>();
  /** Names from the tables resolved to paths (every host write looks several up). */
  private readonly paths = new Map<string, string>();

  private constructor(readonly dir: string) {
    this.lock = new FileLock(lockPath(dir));
  }

  static open(dir: string): Site {
    const absolute = path.resolve(dir);
    if (!fs.existsSync(absolute)) throw new SiteNotFoundError(dir, 'directory does not exist');
    if (!fs.existsSync(tablesPath(absolute))) throw new SiteNotFoundError(dir);
    const site = new Site(absolute);
    site.tables();
    return site;
  }

  /** The tables as they are on disk now, a copy the caller may change and save(). */
  tables(): Tables {
    return JSON.parse(this.current().json) as Tables;
  }

  /**
   * The tables as they are on disk now, shared and deeply frozen: for paths that
   * only look (every host write does). Changing it throws; change through update().
   */
  view(): Tables {
    return this.current().frozen;
  }

  /** Re-read only when the file changed; within one hold of the lock, not even looked at. */
  private current(): {json: string; frozen: Tables} {
    // Within one hold only this handle can change the tables, and save() drops the cache.
    const hold = this.lock.hold;
    if (hold !== 0 && this.cache?.hold === hold) return this.cache;
    const file = tablesPath(this.dir);
    let stat: fs.Stats;
    try {
      // Plain numbers, not BigInts: this runs at every hold of the lock, and a BigInt stat
      // costs several times more. Every save is a new file (an atomic replace), so the
      // inode with the size and a sub-microsecond mtime tells a change apart.
      stat = fs.statSync(file);
    } catch {
      throw new SiteNotFoundError(this.dir, 'its tables are missing');
    }
    const key = `${stat.ino}:${stat.mtimeMs}:${stat.size}`;
    if (this.cache?.key !== key) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch (error) {
        throw new CorruptTablesError(`${file}: not valid JSON (${(error as Error).message})`);
      }
      const tables = validateTables(parsed, file);
      this.cache = {key, hold, json: JSON.stringify(tables), frozen: deepFreeze(tables)};
    }
    this.cache.hold = hold;
    return this.cache;
  }

  save(tables: Tables): void {
    writeFileAtomic(tablesPath(this.dir), `${JSON.stringify(tables, null, 2)}\n`);
    this.cache = undefined;
  }

  /** A read-modify-write of the tables under the site lock; the changed tables are saved. */
  update<T>(change: (tables: Tables) => T): T {
    return this.lock.run(() => {
      const tables = this.tables();
      const result = change(tables);
      this.save(tables);
      return result;
    });
  }

  /** update() for a change that awaits (a call to the remote): the lock is held, and the tables kept, across it. */
  updateAsync<T>(change: (tables: Tables) => Promise<T>): Promise<T> {
    return this.lock.runAsync(async () => {
      const tables = this.tables();
      const result = await change(tables);
      this.save(tables);
      return result;
    });
  }

  get name(): string {
    return this.tables().site.name;
  }

  volume(tables: Tables, ldev: number): VolumeRow {
    const row = tables.volumes.find(v => v.ldev === ldev);
    if (!row) throw new VolumeNotFoundError(tables.site.name, ldev);
    return row;
  }

  pair(tables: Tables, pair: number): PairRow {
    const row = tables.pairs.find(p => p.pair === pair);
    if (!row) throw new PairNotFoundError(tables.site.name, pair);
    return row;
  }

  path(name: string): string {
    let resolved = this.paths.get(name);
    if (resolved === undefined) this.paths.set(name, (resolved = resolveInSite(this.dir, name)));
    return resolved;
  }

  /** An open image for a volume row, kept open for the life of this handle. */
  image(row: VolumeRow): VolumeImage {
    const file = this.path(row.image);
    let image = this.images.get(file);
    if (!image || image.capacity !== row.capacity) {
      image?.close();
      image = VolumeImage.open(file, row.capacity);
      this.images.set(file, image);
    }
    return image;
  }

  close(): void {
    for (const image of this.images.values()) image.close();
    this.images.clear();
    this.lock.close();
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
