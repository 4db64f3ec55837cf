// The committed lock file is what `npm install` writes: a fresh install must leave the
// work tree clean (issue 12, item 14). npm records in the root entry whether the
// package runs install scripts (ours builds the native addon), and whatever it is.
import fs from 'node:fs';
import test from 'ava';

const read = (name: string) => JSON.parse(fs.readFileSync(new URL(`../../../${name}`, import.meta.url), 'utf8'));

test('package-lock.json describes package.json as npm install would write it', t => {
  const manifest = read('package.json');
  const lock = read('package-lock.json');
  const root = lock.packages[''];
  t.is(lock.name, manifest.name);
  t.is(root.version, manifest.version);
  const runsInstallScripts = ['preinstall', 'install', 'postinstall'].some(name => manifest.scripts?.[name]);
  t.is(Boolean(root.hasInstallScript), runsInstallScripts, 'hasInstallScript matches the install scripts');
  for (const field of ['dependencies', 'devDependencies'] as const) t.deepEqual(root[field] ?? {}, manifest[field] ?? {}, field);
  t.deepEqual(root.engines, manifest.engines);
  const normalised = (bin: Record<string, string>) => Object.fromEntries(Object.entries(bin).map(([k, v]) => [k, v.replace(/^\.\//, '')]));
  t.deepEqual(normalised(root.bin), normalised(manifest.bin));
});
