// After tsc: each command's start-up path as one file, dist/src/quick/<id>.js
// (`pair display` → pair-display.js), holding that command and what it imports and
// nothing else; bin/run.js loads the one a command line names. One file instead of
// about fifty modules, and no other command's code or node built-ins, is what
// brings start-up near bare node (docs/PERFORMANCE.md, the start-up row). The
// directory sits as deep as dist/src/cli, so paths relative to a module (the
// native addon, package.json) are the same from a bundle. oclif stays outside.
import fs from 'node:fs';
import path from 'node:path';
import {build} from 'esbuild';
import {COMMAND_MODULES} from '../dist/commands/index.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const outdir = path.join(root, 'dist/src/quick');

const started = Date.now();
fs.rmSync(outdir, {recursive: true, force: true});
let bytes = 0;
await Promise.all(Object.keys(COMMAND_MODULES).map(async id => {
  const result = await build({
    stdin: {
      contents: `import spec from ${JSON.stringify(path.join(root, 'dist/commands', `${COMMAND_MODULES[id]}.js`))};\nimport {runCommandLine} from ${JSON.stringify(path.join(root, 'dist/src/cli/dispatch.js'))};\nexport const run = rest => runCommandLine(spec, rest);\n`,
      resolveDir: root,
      sourcefile: `${id}.js`,
    },
    outfile: path.join(outdir, `${id.replaceAll(' ', '-')}.js`),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['@oclif/core', '*.node'],
    // CommonJS dependencies bundled into an ES module still call require.
    banner: {js: "import {createRequire as createRequireForBundle} from 'node:module'; const require = createRequireForBundle(import.meta.url);"},
    metafile: true,
    logLevel: 'warning',
  });
  bytes += Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
}));
console.log(`dist/src/quick: ${Object.keys(COMMAND_MODULES).length} command bundles, ${Math.round(bytes / 1024)} KiB, ${Date.now() - started} ms`);
