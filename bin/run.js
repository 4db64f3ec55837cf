#!/usr/bin/env node
// no-color.org: NO_COLOR set and not empty turns colour off, whatever else says; chalk
// reads FORCE_COLOR when it loads, so this goes before anything is imported.
if (process.env.NO_COLOR) process.env.FORCE_COLOR = '0';
import fs from 'node:fs';

// A command runs from its own start-up bundle without loading oclif (scripts/bundle.mjs,
// docs/PERFORMANCE.md); help, and input the quick parser is not sure of, go to oclif.
async function runQuick(argv) {
  if (argv.length === 1 && argv[0] === '--version') {
    const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    process.stdout.write(`${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`);
    return true;
  }
  for (const words of [2, 1]) {
    const id = argv.slice(0, words);
    if (id.length < words || !id.every(word => /^[a-z]+$/.test(word))) continue;
    const bundle = new URL(`../dist/src/quick/${id.join('-')}.js`, import.meta.url);
    if (fs.existsSync(bundle)) return (await import(bundle)).run(argv.slice(words));
  }
  return false;
}

if (process.env.MARKLOG_NO_FAST_PATH || !await runQuick(process.argv.slice(2))) {
  const {execute} = await import('@oclif/core');
  await execute({dir: import.meta.url});
}
