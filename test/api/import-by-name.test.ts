// The library is reachable by its package name, with types (issue 12, item 16): a
// program in a project of its own imports 'marklog', and docs/API.md's example runs
// there exactly as written and prints what the page says it prints.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import test, {type ExecutionContext} from 'ava';
import {tempDir} from '../helpers/sites.js';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const page = fs.readFileSync(path.join(repo, 'docs', 'API.md'), 'utf8');
const blocks = [...page.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map(m => ({lang: m[1], text: m[2]}));

/** A project of its own, with marklog installed as `npm install <checkout>` links it. */
function project(t: ExecutionContext): string {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({name: 'uses-marklog', type: 'module', private: true}));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(repo, path.join(dir, 'node_modules', 'marklog'), 'dir');
  return dir;
}

test('docs/API.md: the example imports marklog by name in another project and prints what the page says', t => {
  const dir = project(t);
  const example = blocks.find(b => b.lang === 'js');
  const printed = blocks[blocks.indexOf(example!) + 1];
  t.truthy(example && printed, 'the page has the example and its output');
  fs.writeFileSync(path.join(dir, 'example.mjs'), example!.text);
  const scratch = path.join(dir, 'scratch');
  fs.mkdirSync(scratch);
  const run = spawnSync(process.execPath, ['example.mjs', scratch], {cwd: dir, encoding: 'utf8'});
  t.is(run.status, 0, run.stderr);
  t.is(run.stdout, printed.text);
});

test('the package exports only its entry point, and its types check in a TypeScript project', t => {
  const dir = project(t);
  const manifest = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
  t.deepEqual(Object.keys(manifest.exports), ['.', './package.json']);
  const deep = spawnSync(process.execPath, ['--input-type=module', '-e', "await import('marklog/dist/src/site/site.js')"], {cwd: dir, encoding: 'utf8'});
  t.not(deep.status, 0, 'internal paths are not part of the API');
  t.regex(deep.stderr, /ERR_PACKAGE_PATH_NOT_EXPORTED/);
  fs.writeFileSync(path.join(dir, 'check.ts'), [
    "import {Site, HostWriter, issueMark, MarklogError, type MarkResult} from 'marklog';",
    'export async function markNow(dir: string): Promise<MarkResult> {',
    '  const site = Site.open(dir);',
    '  await new HostWriter(site).write(0, 0, new Uint8Array(512));',
    "  try { return await issueMark(site, {app: 'check'}); } catch (error) { if (error instanceof MarklogError) console.log(error.code); throw error; }",
    '}',
    '// @ts-expect-error: issueMark takes a Site, not a path',
    "issueMark('/nowhere', {});",
  ].join('\n'));
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({compilerOptions: {module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: []}, files: ['check.ts']}));
  const tsc = spawnSync(process.execPath, [path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], {cwd: dir, encoding: 'utf8'});
  t.is(tsc.status, 0, tsc.stdout + tsc.stderr);
});
