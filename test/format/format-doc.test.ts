import fs from 'node:fs';
import {fileURLToPath} from 'node:url';
import test from 'ava';
import {BitmapHeader} from '../../src/format/bitmap-format.js';
import {LogHeader, LogHeaderV2, RecordHeader} from '../../src/format/log-format.js';
import {RecordHeaderV2} from '../../src/format/log-record-v2.js';
import {ACTIVITY_SLOTS, INFLIGHT_SIZE, InflightRecord} from '../../src/format/inflight-format.js';

const FORMAT = fs.readFileSync(fileURLToPath(new URL('../../../docs/FORMAT.md', import.meta.url)), 'utf8');

/** The `| offset | size | ... field |` rows of the table under a heading, as field → offset. */
function tableUnder(heading: string, fieldColumn: number): Record<string, number> {
  const start = FORMAT.indexOf(heading);
  if (start < 0) throw new Error(`FORMAT.md has no heading ${heading}`);
  const rows: Record<string, number> = {};
  let inTable = false;
  let inFence = false;
  for (const line of FORMAT.slice(start).split('\n').slice(1)) {
    if (line.startsWith('```')) inFence = !inFence;
    if (inFence || line.startsWith('```')) continue;
    if (line.startsWith('#')) break;
    if (!line.startsWith('|')) {
      if (inTable) break;
      continue;
    }
    inTable = true;
    const cells = line.split('|').slice(1, -1).map(cell => cell.trim());
    if (!/^\d+$/.test(cells[0])) continue;
    rows[cells[fieldColumn]] = Number(cells[0]);
  }
  return rows;
}

function codeOffsets(layout: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(layout).filter(([name]) => !name.startsWith('reserved')));
}

function docOffsets(rows: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(rows).filter(([name]) => !name.startsWith('reserved')));
}

test('FORMAT.md §4.1 lists every log header field at the offset the codec uses', t => {
  t.deepEqual(docOffsets(tableUnder('### 4.1 Log volume header', 2)), codeOffsets(LogHeader));
});

test('FORMAT.md §4.2 lists every record header field at the offset the codec uses', t => {
  t.deepEqual(docOffsets(tableUnder('### 4.2 Record frame', 2)), codeOffsets(RecordHeader));
});

test('FORMAT.md §4.8.1 and §4.8.2 list every field version 2 adds to the header, and every field of its record header, at the offsets the codec uses', t => {
  t.deepEqual(docOffsets(tableUnder('#### 4.8.1 Log volume header', 2)), codeOffsets(LogHeaderV2));
  t.deepEqual(docOffsets(tableUnder('#### 4.8.2 Record header', 2)), codeOffsets(RecordHeaderV2));
});

test('FORMAT.md §2.1 lists every bitmap header field at the offset the codec uses', t => {
  t.deepEqual(docOffsets(tableUnder('### 2.1 Layout', 3)), codeOffsets(BitmapHeader));
});

test('FORMAT.md §5 lists every in-flight record field at the offset the codec uses', t => {
  t.deepEqual(docOffsets(tableUnder('## 5. The in-flight write record', 2)), codeOffsets(InflightRecord));
});

test('FORMAT.md §5 gives the activity log the number of slots, and the size, the code uses', t => {
  const section = FORMAT.slice(FORMAT.indexOf('## 5. The in-flight write record'), FORMAT.indexOf('## 6.'));
  t.regex(section, new RegExp(`\\*\\*${ACTIVITY_SLOTS} slots\\*\\* of ${INFLIGHT_SIZE} bytes each \\(${ACTIVITY_SLOTS * INFLIGHT_SIZE} bytes\\)`));
});
