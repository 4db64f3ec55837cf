// Fuzzing the host mark registry loader (src/mark/host-registry.ts loadRegistry) with
// damaged host-marks.json files: structural and textual damage to the registry of a
// real primary built through the library. Registries that load are then used by
// `mark list` and `mark` on that primary (the sites are put back after each case):
// they must answer or fail with a typed error, and a new mark must never reuse a
// mark ID the log already holds.
import fs from 'node:fs';
import path from 'node:path';
import {loadRegistry, HOST_MARKS_FILE} from '../../src/mark/host-registry.js';
import {Site} from '../../src/site/site.js';
import {closeLink} from '../../src/site/connect.js';
import {listMarks} from '../../src/mark/mark-list.js';
import {issueMark} from '../../src/mark/mark.js';
import {Rng, caseCount, describe, fuzzSuite, isTyped} from '../helpers/fuzz.js';
import {buildLog, resetFiles, scratchDir, snapshotFiles} from '../helpers/fuzz-sites.js';
import {mutateJson, mutateText, type Json} from '../helpers/json-fuzz.js';

process.env.MARKLOG_LINK_RETRIES = '0';

const PROPERTIES = [
  'loadRegistry answers with a registry or CORRUPT_TABLES, never another exception',
  'the registry marklog writes loads back',
  'a registry loadRegistry accepts never makes mark list or mark fail with an untyped error',
  'a mark issued with an accepted registry gets an ID no mark in the log already has',
];

function withSite<T>(dir: string, work: (site: Site) => T): T {
  const site = Site.open(dir);
  try {
    return work(site);
  } finally {
    closeLink(site);
    site.close();
  }
}

fuzzSuite('host mark registry loader', PROPERTIES, ({seed, ledger, note, t}) => {
  const fx = buildLog(t, 'plain', seed);
  const dir = scratchDir(t, 'marklog-fuzz-registry-');
  const registryFile = path.join(fx.primary, HOST_MARKS_FILE);
  const pristine = fs.readFileSync(registryFile, 'utf8');
  const snapshots = [fx.primary, fx.remote].map(d => ({dir: d, files: snapshotFiles(d)}));
  const inLog = new Set(fx.marks.map(m => m.markId));
  try {
    fs.writeFileSync(path.join(dir, HOST_MARKS_FILE), pristine);
    loadRegistry(dir);
  } catch (error) {
    ledger.fail(PROPERTIES[1], -1, describe(error));
  }

  // Whole-file cases every run must include: the registry lost or reset.
  const edges: {text: string | null; what: string}[] = [
    {text: null, what: 'host-marks.json deleted'},
    {text: '{"format": 1, "groups": {}}\n', what: 'registry reset to no groups'},
    {text: pristine.replace(/"next": \d+/, '"next": 1'), what: 'next reset to 1'},
    {text: pristine.replace(/"next": \d+/, '"next": -5'), what: 'next = -5'},
    {text: pristine.replace(/"next": \d+/, '"next": 0'), what: 'next = 0'},
    {text: pristine.replace(/"marks": \[/, '"marks": [null, '), what: 'a null in marks'},
  ];
  const cases = caseCount(1500);
  const stats = {loaded: 0, refused: 0, probed: 0, issued: 0};
  for (let index = 0; index < cases + edges.length; index++) {
    const rng = new Rng(seed, index);
    let text: string | null;
    let what: string;
    if (index < edges.length) {
      ({text, what} = edges[index]);
    } else {
      const mutation = mutateJson(rng, JSON.parse(pristine) as Json, 2);
      text = `${JSON.stringify(mutation.value, null, 2)}\n`;
      const steps = mutation.steps;
      if (rng.chance(0.3)) {
        const damaged = mutateText(rng, text);
        text = damaged.text;
        steps.push(damaged.step);
      }
      what = steps.join('; ');
    }
    ledger.cases++;
    const context = () => what;
    const file = path.join(dir, HOST_MARKS_FILE);
    if (text === null) fs.rmSync(file, {force: true});
    else fs.writeFileSync(file, text);
    let accepted = false;
    try {
      loadRegistry(dir);
      accepted = true;
      stats.loaded++;
    } catch (error) {
      stats.refused++;
      ledger.check(PROPERTIES[0], index, isTyped(error) && error.code === 'CORRUPT_TABLES', () => `${describe(error)}; ${context()}`);
    }
    // Use an accepted registry on the real primary: every edge case, and one accepted case in four.
    if (!accepted || (index >= edges.length && index % 4 !== 0)) continue;
    stats.probed++;
    if (text === null) fs.rmSync(registryFile, {force: true});
    else fs.writeFileSync(registryFile, text);
    try {
      withSite(fx.primary, site => listMarks(site));
    } catch (error) {
      ledger.check(PROPERTIES[2], index, isTyped(error), () => `mark list: ${describe(error)}; ${context()}`, `mark list: ${error instanceof Error ? error.constructor.name : 'non-error'}`);
    }
    try {
      const result = withSite(fx.primary, site => issueMark(site, {group: fx.group, app: 'fuzz'}));
      stats.issued++;
      ledger.check(PROPERTIES[3], index, !inLog.has(result.markId) && result.markId > 0,
        () => `mark issued with ID ${result.markId}; the log already holds marks ${[...inLog].join(',')}; ${context()}`,
        text === null ? 'registry file missing' : 'registry accepted with a low next');
    } catch (error) {
      ledger.check(PROPERTIES[2], index, isTyped(error), () => `mark: ${describe(error)}; ${context()}`, `mark: ${error instanceof Error ? error.constructor.name : 'non-error'}`);
    }
    for (const s of snapshots) resetFiles(s.dir, s.files);
  }
  note(`${stats.loaded} registries loaded, ${stats.refused} refused; ${stats.probed} used by mark list and mark (${stats.issued} marks issued)`);
});
