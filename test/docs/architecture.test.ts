// docs/ARCHITECTURE.md is the map the source points to (issue 12, item 15): every
// folder of src/ is on it, the rules it states hold in the code, and the source
// points to it rather than to documents outside the repository.
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import test from 'ava';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const page = fs.readFileSync(path.join(repo, 'docs', 'ARCHITECTURE.md'), 'utf8');

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(repo, dir), {withFileTypes: true}).flatMap(entry => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(relative);
    return entry.name.endsWith('.ts') ? [relative] : [];
  });
}

test('every folder of src/ is on the architecture map', t => {
  const folders = fs.readdirSync(path.join(repo, 'src'), {withFileTypes: true}).filter(e => e.isDirectory()).map(e => `src/${e.name}/`);
  for (const folder of folders) t.true(page.includes(folder), `${folder} is on the map`);
});

test('the rules the map states hold: src/ never imports commands/, only src/cli/ and src/demo/ load chalk or cli-table3, only oclif\'s adapter loads oclif', t => {
  for (const file of [...sources('src'), ...sources('commands')]) {
    const text = fs.readFileSync(path.join(repo, file), 'utf8');
    if (file !== 'src/cli/oclif-command.ts') t.false(/from '@oclif\/core'/.test(text), `${file} loads oclif`);
    if (file.startsWith('commands/')) continue;
    t.false(/from '(\.\.\/)+commands\//.test(text), `${file} imports from commands/`);
    if (!file.startsWith('src/cli/') && !file.startsWith('src/demo/')) t.false(/from '(chalk|cli-table3)'/.test(text), `${file} loads a terminal renderer`);
  }
});

test('the source points to documents in the repository, not to the design brief outside it', t => {
  const pointers = [...sources('src'), ...sources('commands')].filter(file => /DESIGN §/.test(fs.readFileSync(path.join(repo, file), 'utf8')));
  t.deepEqual(pointers, []);
  for (const file of page.matchAll(/`(src\/[\w/.-]+\.ts)`/g)) t.true(fs.existsSync(path.join(repo, file[1])), `${file[1]} named on the map exists`);
});
