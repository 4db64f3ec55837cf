// docs/ERRORS.md is the contract scripts read: every error class with its code and
// its exit code, and the exit-code table itself, exactly as src/errors.ts has them
// (issue 12, item 12). A class added without a row, or a row left after its class
// went, fails here.
import fs from 'node:fs';
import test from 'ava';
import {EXIT_CODES} from '../../src/errors.js';
import * as errors from '../../src/errors.js';

const source = fs.readFileSync(new URL('../../../src/errors.ts', import.meta.url), 'utf8');
const page = fs.readFileSync(new URL('../../../docs/ERRORS.md', import.meta.url), 'utf8');

const classes = [...source.matchAll(/class (\w+) extends MarklogError \{\s*readonly code = '(\w+)';\s*readonly category = '(\w+)'/g)]
  .map(([, name, code, category]) => ({name, code, category}));
const rows = [...page.matchAll(/^\| `(\w+)` \| `(\w+)` \| (\w+) \((\d+)\) \|/gm)]
  .map(([, name, code, category, exit]) => ({name, code, category, exit: Number(exit)}));

test('every error class of src/errors.ts has its row in ERRORS.md, with its code, category and exit code', t => {
  const exported = Object.entries(errors).filter(([, value]) => typeof value === 'function' && value.prototype instanceof errors.MarklogError).map(([name]) => name);
  t.deepEqual(classes.map(c => c.name).sort(), exported.sort(), 'the source scan finds every exported class');
  for (const c of classes) {
    const row = rows.find(r => r.name === c.name);
    t.truthy(row, `${c.name} (${c.code}) is documented`);
    if (!row) continue;
    t.is(row.code, c.code, c.name);
    t.is(row.category, c.category, c.name);
    t.is(row.exit, EXIT_CODES[c.category as keyof typeof EXIT_CODES], c.name);
  }
  for (const row of rows) t.true(classes.some(c => c.name === row.name), `${row.name} in ERRORS.md exists in the code`);
  t.is(new Set(classes.map(c => c.code)).size, classes.length, 'codes are unique');
});

test('the exit-code table lists every category with its number, and says what exit 9 means', t => {
  const table = [...page.matchAll(/^\| (\d+) \| `(\w+)` \|/gm)].map(([, exit, category]) => [category, Number(exit)]);
  t.deepEqual(Object.fromEntries(table), {...EXIT_CODES});
  t.false(/exit code 9 is not used/i.test(page));
});
