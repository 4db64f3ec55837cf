// The host mark registry (patent: mark ID info 241) as marks accumulate: a mark adds
// to the registry without rewriting what it already holds, so its cost does not grow
// with the number of marks, and `mark list` shows one line per mark.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cli, cliJson} from '../helpers/cli.js';
import {loggedPair} from '../helpers/library-sites.js';
import {markList} from '../helpers/logging.js';
import {appendToLog} from '../../src/log/remote-log.js';
import {encodeEvent} from '../../src/format/host-marks-format.js';
import {loadRegistry} from '../../src/mark/host-registry.js';

const MARKS = 2000;

/** A primary whose group already has MARKS marks, in the remote log and in a registry as earlier releases wrote it (host-marks.json). */
async function manyMarks(t: Parameters<typeof loggedPair>[0]) {
  const sites = await loggedPair(t, 1024 * 1024, 16 * 1024 * 1024);
  const {appended} = appendToLog(sites.remote, sites.group, Array.from({length: MARKS}, (_, i) => ({kind: 'mark' as const, markId: i + 1, markTime: 1_780_000_000_000_000 + i, app: 'batch'})));
  const marks = appended.map((a, i) => ({markId: i + 1, time: new Date(1_780_000_000_000 + i).toISOString(), app: 'batch', logId: a.logId}));
  fs.writeFileSync(path.join(sites.p, 'host-marks.json'), `${JSON.stringify({format: 1, groups: {[sites.group]: {next: MARKS + 1, marks}}}, null, 2)}\n`);
  return sites;
}

function registryFiles(dir: string): Map<string, Buffer> {
  return new Map(fs.readdirSync(dir).filter(name => name.startsWith('host-marks')).map(name => [name, fs.readFileSync(path.join(dir, name))]));
}

test('Fig. 18B: with 2,000 marks in the registry, a mark appends to it: every byte already there stays, and it grows by a few hundred bytes', async t => {
  const {p, group} = await manyMarks(t);
  // The first mark may move the registry to its current format.
  t.is(cliJson(['mark', '--site', p, '--app', 'cron']).markId, MARKS + 1);
  const before = registryFiles(p);

  const second = cliJson(['mark', '--site', p, '--app', 'cron']);
  t.is(second.markId, MARKS + 2);
  const after = registryFiles(p);
  t.deepEqual([...after.keys()], [...before.keys()], 'no registry file appears or goes');
  let grown = 0;
  for (const [name, old] of before) {
    const now = after.get(name)!;
    t.true(now.subarray(0, old.length).equals(old), `${name}: the bytes before the mark are untouched`);
    grown += now.length - old.length;
  }
  t.true(grown > 0 && grown < 1024, `the registry grew by ${grown} bytes`);

  const rows = markList(p, group);
  t.is(rows.length, MARKS + 2);
  t.true(rows.every(r => r.host === true && r.remote === true));
  t.deepEqual(rows.slice(-2).map(r => r.markId), [MARKS + 1, MARKS + 2]);
});

test('Fig. 23: the human mark list of 2,000 marks is one line per mark under a header', async t => {
  const {p} = await manyMarks(t);
  const listed = cli(['mark', 'list', '--site', p]);
  t.is(listed.code, 0, listed.stderr);
  const rowLines = listed.stdout.split('\n').filter(line => /^\W*\d+\W+\d{4}-\d\d-\d\dT/.test(line));
  t.is(rowLines.length, MARKS);
  t.true(listed.stdout.split('\n').length < MARKS + 10, `${listed.stdout.split('\n').length} lines for ${MARKS} marks`);
});

/** A primary logging one group with three marks made through the CLI. */
async function threeMarks(t: Parameters<typeof loggedPair>[0]) {
  const sites = await loggedPair(t, 1024 * 1024, 4 * 1024 * 1024);
  for (let i = 0; i < 3; i++) cliJson(['mark', '--site', sites.p, '--app', 'db']);
  const journal = path.join(sites.p, 'host-marks.journal');
  t.true(fs.existsSync(journal));
  return {...sites, journal};
}

test('a crash in the middle of a registry append (a torn last line) is no corruption: mark list and verify are clean, the next mark cuts it and takes the next ID', async t => {
  const {p, group, journal} = await threeMarks(t);
  const whole = fs.readFileSync(journal);
  fs.appendFileSync(journal, '3a6c01f2 {"e":"spent","group":1,"ne');

  t.deepEqual(markList(p, group).map(m => m.markId), [1, 2, 3]);
  const verify = cli(['verify', '--site', p, '--json']);
  t.is(verify.code, 0, verify.stdout);
  t.is(cliJson(['mark', '--site', p, '--app', 'db']).markId, 4);
  const after = fs.readFileSync(journal);
  t.true(after.subarray(0, whole.length).equals(whole), 'the appends before the torn one are kept');
  t.false(after.includes('"ne\n') || after.toString().includes('3a6c01f2'), 'the torn bytes are gone');
  t.deepEqual(markList(p, group).map(m => m.markId), [1, 2, 3, 4]);
});

test('a damaged line before the last is corruption: mark list exits 8 with CORRUPT_TABLES naming the registry, verify reports it (exit 9)', async t => {
  const {p, journal} = await threeMarks(t);
  const bytes = fs.readFileSync(journal);
  const second = bytes.indexOf(0x0a) + 1;
  bytes[second + 20] ^= 0x01;
  fs.writeFileSync(journal, bytes);

  const listed = cli(['mark', 'list', '--site', p, '--json']);
  t.is(listed.code, 8);
  t.is(JSON.parse(listed.stdout).error.code, 'CORRUPT_TABLES');
  t.regex(JSON.parse(listed.stdout).error.message, /host-marks\.journal/);
  const verify = cli(['verify', '--site', p, '--json']);
  t.is(verify.code, 9);
  t.deepEqual(JSON.parse(verify.stdout).findings.map((f: {check: string}) => f.check), ['host-registry']);
});

test('a registry journal grown past twice its last whole size is compacted by the next mark: the same marks and next ID, a header per file, one line per mark', async t => {
  const {p, group, journal} = await threeMarks(t);
  // 8,000 spent events (as the catch-up after a lost registry might leave): the
  // IDs they spend are gone for good, so the next mark comes after them.
  const spent = Array.from({length: 8000}, (_, i) => encodeEvent({e: 'spent', group, next: 5 + i}));
  fs.appendFileSync(journal, Buffer.concat(spent));
  const before = loadRegistry(p);

  const mark = cliJson(['mark', '--site', p, '--app', 'db']);
  t.is(mark.markId, 8004);
  t.deepEqual(mark.warnings, []);
  const after = loadRegistry(p);
  t.deepEqual(after.groups[group].marks.slice(0, 3), before.groups[group].marks);
  t.is(after.groups[group].next, 8005);
  const lines = fs.readFileSync(journal, 'utf8').trimEnd().split('\n');
  t.is(lines.length, 1 + 1 + 4, 'header, the next ID, four marks');
  t.is(fs.statSync(journal).size, JSON.parse(lines[0].slice(9)).compacted);
});
