// Fuzzing the host mark registry (src/mark/host-registry.ts loadRegistry and the
// writer `mark` uses) with damaged registries of a real primary built through the
// library: the journal (docs/FORMAT.md §6) with events rewritten under a valid
// checksum, lines dropped, repeated or reordered, raw byte damage and torn tails; and
// the host-marks.json of earlier releases with structural and textual damage.
// Registries that load are then used by `mark list` and `mark` on that primary (the
// sites are put back after each case): they must answer or fail with a typed error,
// and a new mark must never reuse a mark ID the log already holds. A registry at the
// last mark ID (§6.3) is among the named cases: the mark is refused and no file changes.
import fs from 'node:fs';
import path from 'node:path';
import {loadRegistry, rewriteRegistry, HOST_MARKS_FILE, type HostRegistry} from '../../src/mark/host-registry.js';
import {HOST_MARKS_LEGACY} from '../../src/format/host-marks-format.js';
import {Site} from '../../src/site/site.js';
import {closeLink} from '../../src/site/link-opener.js';
import {listMarks} from '../../src/mark/mark-list.js';
import {issueMark} from '../../src/mark/mark.js';
import {Rng, caseCount, crc32cOf, describe, fuzzSuite, isTyped, mutate} from '../helpers/fuzz.js';
import {buildLog, resetFiles, scratchDir, snapshotFiles} from '../helpers/fuzz-sites.js';
import {mutateJson, mutateText, type Json} from '../helpers/json-fuzz.js';

process.env.MARKLOG_LINK_RETRIES = '0';

const PROPERTIES = [
  'loadRegistry answers with a registry or CORRUPT_TABLES, never another exception',
  'the registry marklog writes loads back (the journal, its snapshot, and host-marks.json migrated)',
  'a registry loadRegistry accepts never makes mark list or mark fail with an untyped error',
  'a mark issued with an accepted registry gets an ID no mark in the log already has',
  'a changed byte before the last line is refused; accepted raw damage yields only events marklog wrote, in order',
  'a journal cut at any byte (a torn append) loads; after a mark on any accepted registry the journal loads whole with that mark recorded',
  'an accepted registry is consistent: in each group the mark IDs rise and stay below its next mark ID',
  'a registry whose next mark ID is 2^53 − 1 makes mark fail with MARK_IDS_EXHAUSTED, and a refused mark leaves both registry files as they were',
];

/** §6.3: `next` is at most 2^53 − 1, so 2^53 − 2 is a group's last mark ID. */
const LAST_NEXT = Number.MAX_SAFE_INTEGER;

type Files = {journal: Buffer | null; legacy: string | null};

function filesAt(dir: string): Files {
  const read = (name: string) => (fs.existsSync(path.join(dir, name)) ? fs.readFileSync(path.join(dir, name)) : null);
  return {journal: read(HOST_MARKS_FILE), legacy: read(HOST_MARKS_LEGACY)?.toString('utf8') ?? null};
}

function sameFiles(a: Files, b: Files): boolean {
  return (a.journal === null ? b.journal === null : b.journal !== null && a.journal.equals(b.journal)) && a.legacy === b.legacy;
}

async function withSite<T>(dir: string, work: (site: Site) => T | Promise<T>): Promise<T> {
  const site = Site.open(dir);
  try {
    return await work(site);
  } finally {
    closeLink(site);
    site.close();
  }
}

/** A journal line as marklog frames it (§6.2), around any JSON text, checksum computed independently. */
function line(json: string): Buffer {
  const body = Buffer.from(json, 'utf8');
  return Buffer.concat([Buffer.from(`${crc32cOf(body).toString(16).padStart(8, '0')} `), body, Buffer.from('\n')]);
}

function splitLines(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length;) {
    const end = bytes.indexOf(0x0a, at);
    out.push(bytes.subarray(at, end < 0 ? bytes.length : end + 1));
    at = end < 0 ? bytes.length : end + 1;
  }
  return out;
}

/** Each group's marks a prefix of the pristine ones, its next no higher: nothing invented, nothing reordered. */
function isPrefixOf(got: HostRegistry, pristine: HostRegistry): boolean {
  return Object.entries(got.groups).every(([key, g]) => {
    const p = pristine.groups[key];
    return p !== undefined && g.next <= p.next && g.marks.length <= p.marks.length
      && g.marks.every((m, i) => JSON.stringify(m) === JSON.stringify(p.marks[i]));
  });
}

fuzzSuite('host mark registry', PROPERTIES, async ({seed, ledger, note, t}) => {
  const fx = await buildLog(t, 'plain', seed);
  const dir = scratchDir(t, 'marklog-fuzz-registry-');
  const journalFile = path.join(fx.primary, HOST_MARKS_FILE);
  const pristineBytes = fs.readFileSync(journalFile);
  const pristineLines = splitLines(pristineBytes);
  const lastLineStart = pristineBytes.length - pristineLines.at(-1)!.length;
  const pristine = loadRegistry(fx.primary);
  const legacyDoc = {format: 1, groups: pristine.groups} as unknown as Json;
  const snapshots = [fx.primary, fx.remote].map(d => ({dir: d, files: snapshotFiles(d)}));
  const inLog = new Set(fx.marks.map(m => m.markId));

  const place = (at: string, files: Files) => {
    for (const [name, content] of [[HOST_MARKS_FILE, files.journal], [HOST_MARKS_LEGACY, files.legacy]] as const) {
      const file = path.join(at, name);
      if (content === null) fs.rmSync(file, {force: true});
      else fs.writeFileSync(file, content);
    }
  };
  const loaded = (files: Files): HostRegistry => {
    place(dir, files);
    return loadRegistry(dir);
  };

  // What marklog writes must load back, in each of its three forms.
  try {
    const fromJournal = loaded({journal: pristineBytes, legacy: null});
    rewriteRegistry(dir, fromJournal.groups);
    const fromSnapshot = loadRegistry(dir);
    const fromLegacy = loaded({journal: null, legacy: JSON.stringify(legacyDoc)});
    for (const [what, got] of [['journal', fromJournal], ['snapshot', fromSnapshot], ['host-marks.json', fromLegacy]] as const) {
      ledger.check(PROPERTIES[1], -1, JSON.stringify(got.groups) === JSON.stringify(pristine.groups) && got.tornBytes === 0, () => `${what} loads as ${JSON.stringify(got)}`);
    }
  } catch (error) {
    ledger.fail(PROPERTIES[1], -1, describe(error));
  }

  const spentAt = (next: number) => line(JSON.stringify({e: 'spent', group: fx.group, next}));
  const edges: (Files & {what: string; cut?: boolean; exhausted?: boolean})[] = [
    {journal: null, legacy: null, what: 'registry deleted'},
    {journal: pristineLines[0], legacy: null, what: 'journal reset to its header'},
    {journal: Buffer.concat([pristineLines[0], line(JSON.stringify({e: 'spent', group: fx.group, next: 1}))]), legacy: null, what: 'next reset to 1'},
    {journal: Buffer.concat([pristineBytes, Buffer.from('0badf00d {"e":"spent","gr')]), legacy: null, what: 'a torn append', cut: true},
    {journal: Buffer.concat([pristineBytes, Buffer.alloc(300)]), legacy: null, what: 'zeros after the last line', cut: true},
    {journal: pristineBytes, legacy: '{"format": 1, "groups": {}}\n', what: 'a leftover host-marks.json beside the journal'},
    {journal: null, legacy: '{"format": 1, "groups": {}}\n', what: 'host-marks.json reset to no groups'},
    {journal: null, legacy: JSON.stringify(legacyDoc).replace(/"next":\d+/, '"next":1'), what: 'host-marks.json next reset to 1'},
    {journal: null, legacy: JSON.stringify(legacyDoc).replace(/"marks":\[/, '"marks":[null,'), what: 'a null in host-marks.json marks'},
    ...[1, 2, 3].map(k => ({journal: pristineBytes.subarray(0, pristineBytes.length - k * 7), legacy: null, what: `journal cut ${k * 7} bytes short`, cut: true})),
    {journal: Buffer.concat([pristineBytes, spentAt(LAST_NEXT - 1)]), legacy: null, what: 'next at 2^53 − 2: one mark ID left'},
    {journal: Buffer.concat([pristineBytes, spentAt(LAST_NEXT)]), legacy: null, what: 'next at 2^53 − 1: no mark ID left', exhausted: true},
    {journal: Buffer.concat([pristineBytes, spentAt(LAST_NEXT), Buffer.from('0badf00d {"e":"spent","gr')]), legacy: null, what: 'next at 2^53 − 1 and a torn append', exhausted: true},
    {journal: null, legacy: JSON.stringify(legacyDoc).replace(/"next":\d+/, `"next":${LAST_NEXT}`), what: 'host-marks.json next at 2^53 − 1', exhausted: true},
  ];
  const cases = caseCount(3000);
  const stats = {loaded: 0, refused: 0, probed: 0, issued: 0, torn: 0};
  for (let index = 0; index < cases + edges.length; index++) {
    const rng = new Rng(seed, index);
    let files: Files;
    let what: string;
    let raw: {singleByteAt?: number} | undefined;
    let cut = false;
    let exhausted = false;
    if (index < edges.length) {
      exhausted = edges[index].exhausted ?? false;
      ({what, cut = false} = edges[index]);
      files = {journal: edges[index].journal, legacy: edges[index].legacy};
    } else {
      const kind = rng.int(20);
      if (kind < 5) {
        // host-marks.json of an earlier release, as the old fuzzer damaged it.
        const mutation = mutateJson(rng, legacyDoc, 2);
        let text = `${JSON.stringify(mutation.value, null, 2)}\n`;
        if (rng.chance(0.3)) {
          const damaged = mutateText(rng, text);
          text = damaged.text;
          mutation.steps.push(damaged.step);
        }
        files = {journal: null, legacy: text};
        what = `host-marks.json: ${mutation.steps.join('; ')}`;
      } else if (kind < 12) {
        // Events rewritten under a valid checksum: the replay rules, not the CRC, must catch them.
        const lines = [...pristineLines];
        const steps: string[] = [];
        for (let n = rng.range(1, 2); n > 0; n--) {
          const i = rng.int(lines.length);
          const event = JSON.parse(lines[i].subarray(9).toString('utf8')) as Json;
          const mutation = mutateJson(rng, event, 2);
          lines[i] = line(JSON.stringify(mutation.value));
          steps.push(`line ${i}: ${mutation.steps.join(', ')}`);
        }
        files = {journal: Buffer.concat(lines), legacy: null};
        what = `events: ${steps.join('; ')}`;
      } else if (kind < 15) {
        const lines = [...pristineLines];
        const i = rng.int(lines.length);
        const j = rng.int(lines.length);
        const op = rng.pick(['drop', 'repeat', 'swap', 'move to end'] as const);
        if (op === 'drop') lines.splice(i, 1);
        else if (op === 'repeat') lines.splice(j, 0, lines[i]);
        else if (op === 'swap') [lines[i], lines[j]] = [lines[j], lines[i]];
        else lines.push(...lines.splice(i, 1));
        files = {journal: Buffer.concat(lines), legacy: null};
        what = `lines: ${op} ${i}${op === 'drop' || op === 'move to end' ? '' : ` / ${j}`}`;
      } else if (kind < 17) {
        const at = rng.int(pristineBytes.length);
        files = {journal: pristineBytes.subarray(0, at), legacy: null};
        what = `journal cut at byte ${at}`;
        cut = at >= pristineLines[0].length;
      } else {
        const single = rng.chance(0.5);
        if (single) {
          const bytes = Buffer.from(pristineBytes);
          const at = rng.int(bytes.length);
          bytes[at] ^= 1 << rng.int(8);
          files = {journal: bytes, legacy: null};
          what = `bit flipped at byte ${at}`;
          raw = {singleByteAt: at};
        } else {
          const mutated = mutate(rng, pristineBytes, {maxSteps: 3});
          files = {journal: mutated.bytes, legacy: null};
          what = `raw: ${mutated.steps.join('; ')}`;
          raw = {};
        }
      }
    }
    ledger.cases++;
    let registry: HostRegistry | undefined;
    try {
      registry = loaded(files);
      stats.loaded++;
      if (registry.tornBytes > 0) stats.torn++;
      const consistent = Object.values(registry.groups).every(g => g.marks.every((m, i) => m.markId < g.next && (i === 0 || m.markId > g.marks[i - 1].markId)));
      ledger.check(PROPERTIES[6], index, consistent, () => `${what} loaded as ${JSON.stringify(registry)}`);
    } catch (error) {
      stats.refused++;
      ledger.check(PROPERTIES[0], index, isTyped(error) && error.code === 'CORRUPT_TABLES', () => `${describe(error)}; ${what}`);
    }
    if (raw) {
      const before = raw.singleByteAt !== undefined && raw.singleByteAt < lastLineStart - 1;
      ledger.check(PROPERTIES[4], index, !(registry && before), () => `a flip at byte ${raw.singleByteAt} (last line starts at ${lastLineStart}) was accepted`, 'early flip accepted');
      ledger.check(PROPERTIES[4], index, !registry || isPrefixOf(registry, pristine), () => `${what} loaded as ${JSON.stringify(registry)}`, 'invented events');
    }
    if (cut) ledger.check(PROPERTIES[5], index, registry !== undefined && isPrefixOf(registry, pristine), () => `${what}: ${registry ? JSON.stringify(registry) : 'refused'}`, 'a cut journal refused');
    // Use an accepted registry on the real primary: every edge case, every cut, and one accepted case in six.
    if (!registry || (index >= edges.length && !cut && index % 6 !== 0)) continue;
    if (index >= edges.length && stats.probed >= 80) continue;
    stats.probed++;
    place(fx.primary, files);
    try {
      await withSite(fx.primary, site => listMarks(site));
    } catch (error) {
      ledger.check(PROPERTIES[2], index, isTyped(error), () => `mark list: ${describe(error)}; ${what}`, `mark list: ${error instanceof Error ? error.constructor.name : 'non-error'}`);
    }
    try {
      const result = await withSite(fx.primary, site => issueMark(site, {group: fx.group, app: 'fuzz'}));
      stats.issued++;
      ledger.check(PROPERTIES[7], index, !exhausted, () => `mark issued with ID ${result.markId}; ${what}`, 'a mark past the last mark ID');
      ledger.check(PROPERTIES[3], index, !inLog.has(result.markId) && result.markId > 0,
        () => `mark issued with ID ${result.markId}; the log already holds marks ${[...inLog].join(',')}; ${what}`);
      let after: HostRegistry | undefined;
      try {
        after = loadRegistry(fx.primary);
      } catch (error) {
        ledger.fail(PROPERTIES[5], index, `after the mark: ${describe(error)}; ${what}`, 'journal damaged by the mark');
      }
      if (after) {
        const recorded = after.groups[String(fx.group)]?.marks.at(-1)?.markId === result.markId;
        ledger.check(PROPERTIES[5], index, after.tornBytes === 0 && recorded && !fs.existsSync(path.join(fx.primary, HOST_MARKS_LEGACY)),
          () => `after mark ${result.markId}: torn ${after!.tornBytes}, last mark ${JSON.stringify(after!.groups[String(fx.group)]?.marks.at(-1))}; ${what}`, 'mark not recorded cleanly');
      }
    } catch (error) {
      ledger.check(PROPERTIES[2], index, isTyped(error), () => `mark: ${describe(error)}; ${what}`, `mark: ${error instanceof Error ? error.constructor.name : 'non-error'}`);
      const refusedForId = isTyped(error) && error.code === 'MARK_IDS_EXHAUSTED';
      ledger.check(PROPERTIES[7], index, refusedForId || !exhausted, () => `mark: ${describe(error)}; ${what}`, 'refused for another reason');
      if (refusedForId) ledger.check(PROPERTIES[7], index, sameFiles(filesAt(fx.primary), files), () => `the refused mark changed the registry; ${what}`, 'registry changed');
    }
    for (const s of snapshots) resetFiles(s.dir, s.files);
  }
  note(`${stats.loaded} registries loaded (${stats.torn} with a torn tail), ${stats.refused} refused; ${stats.probed} used by mark list and mark (${stats.issued} marks issued)`);
});
