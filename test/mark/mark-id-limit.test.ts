// The last mark ID (docs/FORMAT.md §6.3, §4.4). A registry event holds integers up
// to 2^53 − 1, so a group whose `next` is 2^53 − 1 has issued its last mark (ID
// 2^53 − 2): a further mark is refused with MARK_IDS_EXHAUSTED before anything is
// written, and the registry at the limit still reads. The log refuses a mark ID a
// mark record cannot hold, whoever sends it.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cli} from '../helpers/cli.js';
import {loggedPair} from '../helpers/library-sites.js';
import {snapshot} from '../helpers/sites.js';
import {InvalidArgumentError, MarkIdsExhaustedError} from '../../src/errors.js';
import {encodeEvent} from '../../src/format/host-marks-format.js';
import {appendToLog, findGroup} from '../../src/log/remote-log.js';
import {loadRegistry, registryPath} from '../../src/mark/host-registry.js';
import {listMarks} from '../../src/mark/mark-list.js';
import {issueMark} from '../../src/mark/mark.js';
import {marksInLog} from '../../src/mark/remote-marks.js';
import {closeLink} from '../../src/site/link-opener.js';

const MAX = Number.MAX_SAFE_INTEGER;

/** A logging pair with marks 1 and 2 taken, whose registry then says `next` for its group. */
async function registryAt(t: Parameters<typeof loggedPair>[0], next: number) {
  const sites = await loggedPair(t, 1024 * 1024, 4 * 1024 * 1024);
  t.teardown(() => closeLink(sites.primary));
  await issueMark(sites.primary, {app: 'db'});
  await issueMark(sites.primary, {app: 'db'});
  const journal = registryPath(sites.p);
  fs.appendFileSync(journal, encodeEvent({e: 'spent', group: sites.group, next}));
  return {...sites, journal};
}

test('a registry whose next mark ID is 2^53 − 1 reads, lists and verifies as it is', async t => {
  const {primary, p, group} = await registryAt(t, MAX);

  const registry = loadRegistry(p);
  t.is(registry.groups[group].next, MAX);
  t.deepEqual(registry.groups[group].marks.map(m => m.markId), [1, 2]);
  t.deepEqual((await listMarks(primary, group))[0].marks.map(m => m.markId), [1, 2]);
  const verify = cli(['verify', '--site', p, '--json']);
  t.is(verify.code, 0, verify.stdout);
});

test('a mark on a group whose next mark ID is 2^53 − 1 is refused with MARK_IDS_EXHAUSTED and changes no file at either site', async t => {
  const {primary, p, r, group} = await registryAt(t, MAX);
  const before = {primary: snapshot(p), remote: snapshot(r)};

  const error = await t.throwsAsync(() => issueMark(primary, {app: 'db'}), {instanceOf: MarkIdsExhaustedError});

  t.is(error?.code, 'MARK_IDS_EXHAUSTED');
  t.deepEqual(snapshot(p), before.primary);
  t.deepEqual(snapshot(r), before.remote);
  t.is(loadRegistry(p).groups[group].next, MAX);
});

test('mark ID 2^53 − 2 is the last: it is issued and recorded, the registry then reads with next 2^53 − 1, and the next mark is refused', async t => {
  const {primary, remote, p, group} = await registryAt(t, MAX - 1);

  const last = await issueMark(primary, {app: 'db'});

  t.is(last.markId, MAX - 1);
  const registry = loadRegistry(p);
  t.is(registry.tornBytes, 0);
  t.is(registry.groups[group].next, MAX);
  t.is(registry.groups[group].marks.at(-1)?.markId, MAX - 1);
  t.deepEqual(marksInLog(remote, group).map(m => m.markId), [1, 2, MAX - 1]);
  await t.throwsAsync(() => issueMark(primary, {app: 'db'}), {instanceOf: MarkIdsExhaustedError});
  t.is(loadRegistry(p).groups[group].marks.length, 3);
});

test('the refused mark changes no file when the registry has a torn last line, or is still host-marks.json', async t => {
  const torn = await registryAt(t, MAX);
  fs.appendFileSync(torn.journal, '3a6c01f2 {"e":"spent","group":1,"ne');
  const tornBefore = snapshot(torn.p);
  await t.throwsAsync(() => issueMark(torn.primary, {app: 'db'}), {instanceOf: MarkIdsExhaustedError});
  t.deepEqual(snapshot(torn.p), tornBefore, 'the torn line is not cut');

  const legacy = await registryAt(t, MAX);
  const {groups} = loadRegistry(legacy.p);
  fs.rmSync(legacy.journal);
  fs.writeFileSync(path.join(legacy.p, 'host-marks.json'), `${JSON.stringify({format: 1, groups}, null, 2)}\n`);
  const legacyBefore = snapshot(legacy.p);
  await t.throwsAsync(() => issueMark(legacy.primary, {app: 'db'}), {instanceOf: MarkIdsExhaustedError});
  t.deepEqual(snapshot(legacy.p), legacyBefore, 'host-marks.json is not migrated');
});

test('marklog mark at the limit exits 4 with MARK_IDS_EXHAUSTED under --json, and one line on stderr without it', async t => {
  const {p} = await registryAt(t, MAX);

  const json = cli(['mark', '--site', p, '--app', 'db', '--json']);
  t.is(json.code, 4);
  t.is(JSON.parse(json.stdout).error.code, 'MARK_IDS_EXHAUSTED');

  const human = cli(['mark', '--site', p, '--app', 'db']);
  t.is(human.code, 4);
  t.is(human.stderr.trimEnd().split('\n').length, 1, human.stderr);
});

test('the log refuses a mark ID a mark record cannot hold, before it writes anything', async t => {
  const {remote, r, group} = await loggedPair(t, 1024 * 1024, 4 * 1024 * 1024);
  const before = snapshot(r);
  const mark = (markId: number) => () => appendToLog(remote, group, [{kind: 'mark', markId, markTime: 1_780_000_000_000_000, app: 'db'}]);

  t.throws(mark(MAX + 1), {instanceOf: MarkIdsExhaustedError});
  for (const markId of [0, -1, 1.5, Number.NaN]) t.throws(mark(markId), {instanceOf: InvalidArgumentError}, String(markId));
  t.deepEqual(snapshot(r), before);
});

test('a log that already holds mark 2^53 − 1 reads fine; a mark at the primary is then refused with MARK_IDS_EXHAUSTED, and the log is unchanged', async t => {
  const {primary, remote, p, r, group} = await loggedPair(t, 1024 * 1024, 4 * 1024 * 1024);
  t.teardown(() => closeLink(primary));
  appendToLog(remote, group, [{kind: 'mark', markId: MAX, markTime: 1_780_000_000_000_000, app: 'other'}]);
  t.deepEqual(marksInLog(remote, group).map(m => m.markId), [MAX]);
  const before = snapshot(r);

  // The registry offers mark 1; the log answers that its next free ID would be 2^53.
  const error = await t.throwsAsync(() => issueMark(primary, {app: 'db'}), {instanceOf: MarkIdsExhaustedError});

  t.is(error?.code, 'MARK_IDS_EXHAUSTED');
  t.deepEqual(snapshot(r), before);
  t.is(findGroup(remote, remote.tables(), group).lastMarkId, MAX);
  const registry = loadRegistry(p);
  t.deepEqual(registry.groups[group].marks, [], 'no mark recorded at the primary');
  t.is(registry.groups[group].next, 2, 'only mark 1, offered before the log answered, is spent');
});
