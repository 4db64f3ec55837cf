import fs from 'node:fs';
import {fileURLToPath} from 'node:url';
import test from 'ava';

// The command names and their flags are a contract with scripts and runbooks
// (DESIGN §5): a rename or a removal must be deliberate, so it must change the
// snapshot in test/snapshots/commands.json in the same commit.
const root = new URL('../../../', import.meta.url);
const read = (name: string) => JSON.parse(fs.readFileSync(fileURLToPath(new URL(name, root)), 'utf8'));

test('the commands and their flags are the ones the snapshot records', t => {
  const manifest = read('oclif.manifest.json') as {commands: Record<string, {flags: Record<string, unknown>}>};
  const actual = Object.fromEntries(Object.entries(manifest.commands).sort(([a], [b]) => a.localeCompare(b))
    .map(([id, command]) => [id, Object.keys(command.flags).sort()]));
  t.deepEqual(actual, read('test/snapshots/commands.json'));
});

test('every command has a summary and at least one example', t => {
  const manifest = read('oclif.manifest.json') as {commands: Record<string, {summary?: string; examples?: unknown[]}>};
  for (const [id, command] of Object.entries(manifest.commands)) {
    t.truthy(command.summary, `${id} has a summary`);
    t.true((command.examples ?? []).length > 0, `${id} has an example`);
  }
});
