// Mark list: the host's registry and the remote log side by side, so an operator
// sees which marks can still be restored (patent: Fig. 23, step 1).
import {MarklogError} from '../errors.js';
import {linkOf} from '../site/link-opener.js';
import {loadRegistry} from './host-registry.js';
import {marksInLog} from './remote-marks.js';
import type {Site} from '../site/site.js';

export interface MarkListRow {
  markId: number;
  logId: number;
  time: string;
  app: string;
  /** In the host's registry (primary side). Null when listing at the remote. */
  host: boolean | null;
  /** In the remote log, hence restorable. Null when the remote did not answer. */
  remote: boolean | null;
}

export interface MarkList {
  group: number;
  marks: MarkListRow[];
  warnings: string[];
}

export async function listMarks(site: Site, group?: number): Promise<MarkList[]> {
  const tables = site.tables();
  if (tables.site.role === 'remote') {
    const groups = group === undefined ? tables.groups.map(g => g.group) : [group];
    return groups.map(g => ({
      group: g,
      marks: marksInLog(site, g).map(m => ({markId: m.markId, logId: m.logId, time: m.time, app: m.app, host: null, remote: true})),
      warnings: [],
    }));
  }
  const registry = loadRegistry(site.dir);
  const groups = group === undefined ? Object.keys(registry.groups).map(Number) : [group];
  const lists: MarkList[] = [];
  for (const g of groups) {
    const hostMarks = registry.groups[String(g)]?.marks ?? [];
    const warnings: string[] = [];
    let remote: ReturnType<typeof marksInLog> | null = null;
    try {
      remote = await (await linkOf(site, tables)).listMarks(g);
    } catch (error) {
      if (!(error instanceof MarklogError)) throw error;
      warnings.push(`the remote log was not read: ${error.message}`);
    }
    const rows = new Map<number, MarkListRow>();
    for (const m of hostMarks) rows.set(m.markId, {markId: m.markId, logId: m.logId, time: m.time, app: m.app, host: true, remote: remote ? false : null});
    for (const m of remote ?? []) {
      const row = rows.get(m.markId);
      if (row) row.remote = true;
      else rows.set(m.markId, {markId: m.markId, logId: m.logId, time: m.time, app: m.app, host: false, remote: true});
    }
    lists.push({group: g, marks: [...rows.values()].sort((a, b) => a.markId - b.markId), warnings});
  }
  return lists;
}
