// docs/FORMAT.md §6 against the code: the event table lists what the codec writes,
// and the worked example decodes, line by line and whole, to what the page says.
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import test from 'ava';
import {COMPACT_SLACK, EVENT_FIELDS, HOST_MARKS_JOURNAL, decodeEvent, encodeEvent, type HostMarksEvent} from '../../src/format/host-marks-format.js';
import {loadRegistry, snapshotBytes} from '../../src/mark/host-registry.js';
import {crc32cOf} from '../helpers/fuzz.js';
import {tempDir} from '../helpers/sites.js';

const FORMAT = fs.readFileSync(fileURLToPath(new URL('../../../docs/FORMAT.md', import.meta.url)), 'utf8');

function section(heading: string): string {
  const start = FORMAT.indexOf(heading);
  if (start < 0) throw new Error(`FORMAT.md has no heading ${heading}`);
  const rest = FORMAT.slice(start + heading.length);
  const end = rest.search(/\n#{2,3} /);
  return end < 0 ? rest : rest.slice(0, end);
}

const example = (() => {
  const body = section('### 6.6 Worked example');
  const fence = body.match(/```\n([\s\S]*?)```/);
  if (!fence) throw new Error('§6.6 has no example');
  return Buffer.from(fence[1], 'utf8');
})();

test('FORMAT.md §6.3 lists every event with the members the codec writes, in order', t => {
  const rows: Record<string, string[]> = {};
  const table = section('### 6.3 Events').split('\n').filter(line => line.startsWith('|'));
  // The rows under the header and its |---| rule.
  for (const line of table.slice(2)) {
    const cells = line.split('|').slice(1, -1).map(c => c.trim());
    const event = cells[0]?.match(/^`(\w+)`$/);
    if (event) rows[event[1]] = cells[1].split(',').map(m => m.trim().replaceAll('`', ''));
  }
  t.deepEqual(rows, Object.fromEntries(Object.entries(EVENT_FIELDS).map(([e, fields]) => [e, [...fields]])));
});

test('FORMAT.md §6.6: each line checks against its CRC-32C computed from the page alone, and the codec writes the same bytes', t => {
  const lines = example.toString('utf8').trimEnd().split('\n');
  t.is(lines.length, 6);
  for (const line of lines) {
    const [hex, json] = [line.slice(0, 8), line.slice(9)];
    t.is(line[8], ' ');
    t.is(Number.parseInt(hex, 16), crc32cOf(Buffer.from(json, 'utf8')), line);
    const event = decodeEvent(Buffer.from(line, 'utf8'));
    t.false('reason' in event, line);
    t.is(encodeEvent(event as HostMarksEvent).toString('utf8'), `${line}\n`);
  }
});

test('FORMAT.md §6.6: the example reads as group 1, next mark ID 4, marks 1, 2 and 3; its first four lines are the rewrite of marks 1 and 2', t => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, HOST_MARKS_JOURNAL), example);
  const registry = loadRegistry(dir);
  t.is(registry.tornBytes, 0);
  t.deepEqual(Object.keys(registry.groups), ['1']);
  t.is(registry.groups['1'].next, 4);
  t.deepEqual(registry.groups['1'].marks.map(m => [m.markId, m.logId]), [[1, 4], [2, 9], [3, 15]]);
  const rewrite = snapshotBytes({'1': {next: 3, marks: registry.groups['1'].marks.slice(0, 2)}});
  t.is(rewrite.length, 321);
  t.true(example.subarray(0, rewrite.length).equals(rewrite));
});

test('FORMAT.md §6.4 gives the compaction threshold the writer uses', t => {
  t.true(section('### 6.4 Reading, appending, compacting').includes(`2 × \`compacted\` + ${COMPACT_SLACK.toLocaleString('en-US')} bytes`));
});

test('a line whose event name is not a string ({"toString":1}, ["head"]) or names no event ("toString") is an unknown event, never an exception (found by the fuzzer, seed 1639302515)', t => {
  for (const e of [{toString: 1}, ['head'], ['mark'], 'toString', 'constructor', null]) {
    const json = Buffer.from(JSON.stringify({e, magic: 'x', format: 1, compacted: 0}), 'utf8');
    const line = Buffer.concat([Buffer.from(`${crc32cOf(json).toString(16).padStart(8, '0')} `, 'latin1'), json]);
    t.deepEqual(decodeEvent(line), {reason: 'unknown event'}, JSON.stringify(e));
  }
});
