// docs/ARCHITECTURE.md is the map the source points to (issue 12, item 15): every
// folder of src/ is on it, the rules it states hold in the code, and the source
// points to it rather than to documents outside the repository.
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import test, {type ExecutionContext} from 'ava';

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

/** What `file` (a path under src/) imports, as paths under src/: from its source, type-only imports included. */
function importsOf(file: string, text = fs.readFileSync(path.join(repo, file), 'utf8')): string[] {
  return [...text.matchAll(/^(?:import|export)\b[^'";]*?'(\.{1,2}\/[^']+)';/gm)]
    .map(match => path.normalize(path.join(path.dirname(file), match[1].replace(/\.js$/, '.ts'))));
}

/** The imports that remain at run time: those of the compiled module (tsc drops the type-only ones). */
function runtimeImportsOf(file: string): string[] {
  const compiled = path.join(repo, 'dist', file.replace(/\.ts$/, '.js'));
  return importsOf(file, fs.readFileSync(compiled, 'utf8'));
}

/** What listeners share (serve and agent), at the bottom of the map beside src/util/; the rest of src/transport/ is the transports. */
const LISTENER_FILES = ['src/transport/listen-address.ts', 'src/transport/tls-files.ts'];
const BELOW_THE_ENDPOINT = ['src/format/', 'src/volume/', 'src/site/', 'src/io/', 'src/log/', 'src/pair/', 'src/mark/', 'src/util/', 'src/native/'];
/** Entry points: the only modules that plug in the transports (src/transport/transports.ts). */
const ENTRY_POINTS = ['src/cli/', 'src/demo/', 'src/index.ts'];

/** Nothing from src/format/ up to src/mark/ imports the endpoint or a transport; only entry points import a transport. */
function layersHold(t: ExecutionContext): void {
  for (const file of sources('src')) {
    const imported = importsOf(file);
    if (BELOW_THE_ENDPOINT.some(layer => file.startsWith(layer))) {
      for (const target of imported) {
        t.false(target.startsWith('src/endpoint/'), `${file} imports ${target}`);
        t.false(target.startsWith('src/transport/') && !LISTENER_FILES.includes(target), `${file} imports ${target}`);
      }
    }
    if (LISTENER_FILES.includes(file)) t.deepEqual(imported.filter(target => target !== 'src/errors.ts' && !target.startsWith('src/util/')), [], `${file} imports only errors and utilities`);
    if (file.startsWith('src/transport/') || ENTRY_POINTS.some(entry => file.startsWith(entry))) continue;
    for (const target of imported) t.false(target.startsWith('src/transport/') && !LISTENER_FILES.includes(target), `${file} is no entry point but imports ${target}`);
  }
}

/** No module of src/ imports itself again at run time through others. */
function noImportCycle(t: ExecutionContext): void {
  const files = sources('src');
  const graph = new Map(files.map(file => [file, runtimeImportsOf(file).filter(target => files.includes(target))]));
  const done = new Set<string>();
  const cycles: string[] = [];
  const walk = (file: string, trail: string[]) => {
    const at = trail.indexOf(file);
    if (at >= 0) {
      cycles.push([...trail.slice(at), file].join(' → '));
      return;
    }
    if (done.has(file)) return;
    for (const target of graph.get(file)!) walk(target, [...trail, file]);
    done.add(file);
  };
  for (const file of files) walk(file, []);
  t.deepEqual(cycles, []);
}

test('the rules the map states hold: src/ never imports commands/, only src/cli/ and src/demo/ load chalk or cli-table3, only oclif\'s adapter loads oclif; nothing below the remote endpoint imports it or a transport, only entry points import the transports, and the compiled modules import no cycle', t => {
  for (const file of [...sources('src'), ...sources('commands')]) {
    const text = fs.readFileSync(path.join(repo, file), 'utf8');
    if (file !== 'src/cli/oclif-command.ts') t.false(/from '@oclif\/core'/.test(text), `${file} loads oclif`);
    if (file.startsWith('commands/')) continue;
    t.false(/from '(\.\.\/)+commands\//.test(text), `${file} imports from commands/`);
    if (!file.startsWith('src/cli/') && !file.startsWith('src/demo/')) t.false(/from '(chalk|cli-table3)'/.test(text), `${file} loads a terminal renderer`);
  }
  layersHold(t);
  noImportCycle(t);
});

test('the source points to documents in the repository, not to the design brief outside it', t => {
  const pointers = [...sources('src'), ...sources('commands')].filter(file => /DESIGN §/.test(fs.readFileSync(path.join(repo, file), 'utf8')));
  t.deepEqual(pointers, []);
  for (const file of page.matchAll(/`(src\/[\w/.-]+\.ts)`/g)) t.true(fs.existsSync(path.join(repo, file[1])), `${file[1]} named on the map exists`);
});

