// Fuzzing the management-table loader (src/site/tables.ts validateTables, and Site.open
// on a directory whose tables.json is damaged). The seeds are the tables of a real
// primary and remote built through the library (pair, log group, marks). Damage is
// structural (fields deleted, retyped, set to extremes, subtrees copied elsewhere,
// "__proto__" keys) and textual (truncation, stray characters, a byte-order mark,
// duplicate keys, 1e999, 5000 nested arrays). Tables that load are then used by the
// read-only commands (site show, volume list, pair display, log status, mark list,
// restore --dry-run), which must answer or fail with a typed error.
import fs from 'node:fs';
import path from 'node:path';
import {validateTables} from '../../src/site/tables.js';
import {Site} from '../../src/site/site.js';
import {closeLink} from '../../src/site/link-opener.js';
import {showSite} from '../../src/site/site-admin.js';
import {listVolumes} from '../../src/volume/volume-admin.js';
import {displayPairs} from '../../src/pair/pair-display.js';
import {logStatus} from '../../src/log/log-admin.js';
import {listMarks} from '../../src/mark/mark-list.js';
import {restoreToMark} from '../../src/restore/restore.js';
import {Rng, caseCount, describe, fuzzSuite, isTyped} from '../helpers/fuzz.js';
import {buildLog, scratchDir} from '../helpers/fuzz-sites.js';
import {mutateJson, mutateText, type Json} from '../helpers/json-fuzz.js';

process.env.MARKLOG_LINK_RETRIES = '0';

type Doc = Record<string, any>;

const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
const isStr = (v: unknown) => typeof v === 'string';
const isObj = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Every field FORMAT.md §3 lists (not marked optional) with its type. Returns the paths that
 * are missing or of the wrong type, e.g. "groups[].memberGenerations".
 */
function specProblems(doc: Doc): string[] {
  const out = new Set<string>();
  const need = (ok: boolean, where: string) => {
    if (!ok) out.add(where);
  };
  const linkRow = (row: unknown, where: string) => {
    need(isObj(row), where);
    if (!isObj(row)) return;
    for (const k of ['remote', 'siteId', 'name', 'linked']) need(isStr(row[k]), `${where}.${k}`);
  };
  need(doc.format === 1, 'format');
  need(isObj(doc.site), 'site');
  if (isObj(doc.site)) {
    for (const k of ['id', 'name', 'created']) need(isStr(doc.site[k]), `site.${k}`);
    need(['primary', 'remote'].includes(doc.site.role), 'site.role');
  }
  if (doc.link !== null) linkRow(doc.link, 'link');
  need(Array.isArray(doc.volumes), 'volumes');
  for (const v of Array.isArray(doc.volumes) ? doc.volumes : []) {
    need(isObj(v), 'volumes[]');
    if (!isObj(v)) continue;
    for (const k of ['ldev', 'capacity', 'generation']) need(isCount(v[k]), `volumes[].${k}`);
    for (const k of ['id', 'hostType', 'image']) need(isStr(v[k]), `volumes[].${k}`);
    need(typeof v.pathDefined === 'boolean', 'volumes[].pathDefined');
    need(['NORMAL', 'BLOCKED'].includes(v.state), 'volumes[].state');
    need(['none', 'R-VOL', 'LOG', 'POOL'].includes(v.reserve), 'volumes[].reserve');
    need(Array.isArray(v.pairs) && v.pairs.every(isCount), 'volumes[].pairs');
    need(v.logGroup === null || isCount(v.logGroup), 'volumes[].logGroup');
    need(isCount(v.capacity) && v.capacity % 512 === 0, 'volumes[].capacity (a multiple of 512)');
    need(v.rvolOf === null || (isObj(v.rvolOf) && isCount(v.rvolOf.pair) && isStr(v.rvolOf.primarySite) && isCount(v.rvolOf.mvol)), 'volumes[].rvolOf');
  }
  need(Array.isArray(doc.pairs), 'pairs');
  for (const p of Array.isArray(doc.pairs) ? doc.pairs : []) {
    need(isObj(p), 'pairs[]');
    if (!isObj(p)) continue;
    for (const k of ['pair', 'mvol', 'chunkSize']) need(isCount(p[k]), `pairs[].${k}`);
    need(isObj(p.rvol) && isStr(p.rvol.site) && isStr(p.rvol.name) && isCount(p.rvol.ldev), 'pairs[].rvol');
    need(['SMPL', 'COPY', 'PAIR', 'PSUS', 'PSUE', 'SSWS'].includes(p.state), 'pairs[].state');
    for (const k of ['bitmap', 'created']) need(isStr(p[k]), `pairs[].${k}`);
    need(p.logGroup === null || isCount(p.logGroup), 'pairs[].logGroup');
    need(p.direction === undefined || p.direction === 'forward' || p.direction === 'reverse', 'pairs[].direction');
    need(p.suspendedBy === undefined || p.suspendedBy === null || isStr(p.suspendedBy), 'pairs[].suspendedBy');
  }
  need(Array.isArray(doc.groups), 'groups');
  for (const g of Array.isArray(doc.groups) ? doc.groups : []) {
    need(isObj(g), 'groups[]');
    if (!isObj(g)) continue;
    for (const k of ['group', 'baseGeneration']) need(isCount(g[k]), `groups[].${k}`);
    need(g.mode === 'LOG' || g.mode === 'STOPPED', 'groups[].mode');
    for (const k of ['primarySite', 'created']) need(isStr(g[k]), `groups[].${k}`);
    need(Array.isArray(g.members) && g.members.every((m: unknown) => isObj(m) && isCount(m.rvol) && isCount(m.mvol) && isCount(m.pair)), 'groups[].members');
    need(Array.isArray(g.logVolumes) && g.logVolumes.every(isCount), 'groups[].logVolumes');
    need(isObj(g.memberGenerations) && Object.values(g.memberGenerations).every(isCount), 'groups[].memberGenerations');
    need(typeof g.threshold === 'number' && g.threshold >= 0 && g.threshold <= 1, 'groups[].threshold (0 to 1)');
    need(g.alertCommand === null || isStr(g.alertCommand), 'groups[].alertCommand');
    for (const k of ['alertRaised', 'full']) need(typeof g[k] === 'boolean', `groups[].${k}`);
    need(g.applying === undefined || g.applying === null || isCount(g.applying), 'groups[].applying');
    need(g.takenOver === undefined || g.takenOver === null || isStr(g.takenOver), 'groups[].takenOver');
  }
  need(Array.isArray(doc.peers), 'peers');
  for (const p of Array.isArray(doc.peers) ? doc.peers : []) linkRow(p, 'peers[]');
  need(isObj(doc.next) && isCount(doc.next.ldev) && isCount(doc.next.pair), 'next');
  return [...out];
}

const PROPERTIES = [
  'validateTables answers with tables or CORRUPT_TABLES, never another exception',
  'Site.open on a damaged tables.json answers with a site or CORRUPT_TABLES, never another exception',
  'the tables marklog writes load back',
  'tables that load have every field FORMAT.md §3 lists, with its type',
  'tables that Site.open accepts never make a read-only command fail with an untyped error',
];

fuzzSuite('tables loader', PROPERTIES, async ({seed, ledger, note, t}) => {
  const fx = await buildLog(t, 'plain', seed);
  const out = scratchDir(t, 'marklog-fuzz-tables-');
  const seeds = [fx.primary, fx.remote].map(dir => ({dir, text: fs.readFileSync(path.join(dir, 'tables.json'), 'utf8')}));
  for (const s of seeds) {
    let ok = true;
    let why = '';
    try {
      validateTables(JSON.parse(s.text), 'tables.json');
      Site.open(s.dir).close();
    } catch (error) {
      ok = false;
      why = describe(error);
    }
    ledger.check(PROPERTIES[2], -1, ok, () => `${s.dir}: ${why}`);
  }
  const stats = {memory: 0, memoryAccepted: 0, files: 0, opened: 0, probed: 0};
  const cases = caseCount(4000);
  for (let index = 0; index < cases; index++) {
    const rng = new Rng(seed, index);
    const source = seeds[index % 2];
    const inMemory = index % 4 < 2;
    const mutation = mutateJson(rng, JSON.parse(source.text) as Json, inMemory ? 3 : 2);
    ledger.cases++;

    // In memory: what JSON.parse would give for the damaged document.
    if (inMemory) {
      stats.memory++;
      const context = () => `${source === seeds[0] ? 'primary' : 'remote'} tables; ${mutation.steps.join('; ')}`;
      const value = JSON.parse(JSON.stringify(mutation.value));
      let accepted: Doc | undefined;
      try {
        accepted = validateTables(value, 'tables.json') as unknown as Doc;
      } catch (error) {
        ledger.check(PROPERTIES[0], index, isTyped(error) && error.code === 'CORRUPT_TABLES', () => `${describe(error)}; ${context()}`);
      }
      if (accepted) {
        stats.memoryAccepted++;
        for (const problem of specProblems(accepted)) {
          ledger.fail(PROPERTIES[3], index, `accepted with ${problem} missing or of the wrong type; ${context()}`, problem);
        }
      }
      continue;
    }

    // On disk, through Site.open, sometimes with textual damage on top.
    stats.files++;
    let text = `${JSON.stringify(mutation.value, null, 2)}\n`;
    const steps = [...mutation.steps];
    if (rng.chance(0.3)) {
      const damaged = mutateText(rng, text);
      text = damaged.text;
      steps.push(damaged.step);
    }
    const context = () => `${source === seeds[0] ? 'primary' : 'remote'} tables.json; ${steps.join('; ')}`;
    const file = path.join(source.dir, 'tables.json');
    fs.writeFileSync(file, text);
    let site: Site | undefined;
    try {
      site = Site.open(source.dir);
      stats.opened++;
    } catch (error) {
      ledger.check(PROPERTIES[1], index, isTyped(error) && error.code === 'CORRUPT_TABLES', () => `${describe(error)}; ${context()}`);
    }
    if (site) {
      stats.probed++;
      const probes: [string, () => unknown][] = [
        ['site show', () => showSite(source.dir)],
        ['volume list', () => listVolumes(site!)],
        ['pair display', () => displayPairs(site!)],
        ['log status', () => logStatus(site!)],
        ['mark list', () => listMarks(site!)],
        ['restore --dry-run', () => restoreToMark(site!, {group: fx.group, markId: fx.marks[0].markId, target: {kind: 'file', path: path.join(out, `dry-${index}.img`)}, dryRun: true})],
      ];
      for (const [name, probe] of probes) {
        try {
          await probe();
        } catch (error) {
          ledger.check(PROPERTIES[4], index, isTyped(error), () => `${name}: ${describe(error)}; ${context()}`, `${name}: ${error instanceof Error ? error.constructor.name : 'non-error'}`);
        }
      }
      closeLink(site);
      site.close();
    }
    fs.writeFileSync(file, source.text);
  }
  note(`${stats.memory} documents validated in memory (${stats.memoryAccepted} accepted), ${stats.files} written as tables.json (${stats.opened} opened and probed by 6 read-only commands)`);
});
