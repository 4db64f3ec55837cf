// docs/JSON.md promises a field table for every command's --json document (issue 12,
// item 12). This runs the flow of the patent through the real CLI, collects every
// field name each document holds (at any depth), and checks that the command's section
// of JSON.md, or its shared objects, names it. A field added without its line fails.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cliJson} from '../helpers/cli.js';
import {loggingSites} from '../helpers/logging.js';
import {createVolume} from '../helpers/sites.js';

const page = fs.readFileSync(new URL('../../../docs/JSON.md', import.meta.url), 'utf8');

/** The text of the section whose heading starts with `heading`, up to the next heading of its level or above. */
function section(heading: string): string {
  const start = page.indexOf(`\n### ${heading}`);
  if (start < 0) throw new Error(`JSON.md has no section "### ${heading}…"`);
  const rest = page.slice(start + 1);
  const end = rest.slice(4).search(/\n##+ /);
  return end < 0 ? rest : rest.slice(0, end + 4);
}

/** Every identifier written inside backticks: the names the page documents. */
function namesIn(text: string): Set<string> {
  const names = new Set<string>();
  // Examples in fences show a document; the tables are what documents its fields.
  const prose = text.replace(/```[\s\S]*?```/g, '');
  for (const [, span] of prose.matchAll(/`([^`]+)`/g)) for (const [name] of span.matchAll(/[A-Za-z_][A-Za-z0-9_]*/g)) names.add(name);
  return names;
}

const shared = namesIn(page.slice(page.indexOf('## Shared objects'), page.indexOf('## Sites')) + page.slice(page.indexOf('## Errors'), page.indexOf('## Shared objects')));

function fieldNames(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) fieldNames(item, into);
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      // Maps keyed by LDEV (memberGenerations) carry numbers, not field names.
      if (!/^\d+$/.test(key)) into.add(key);
      fieldNames(child, into);
    }
  }
  return into;
}

test('every field of every command\'s --json document is named in its JSON.md section', t => {
  const sites = loggingSites(t, {pairs: 1});
  const {primary, remote, root, host, members} = sites;
  const documents: [string, unknown][] = [];
  const run = (heading: string, args: string[], input?: Buffer) => documents.push([heading, cliJson(args, input ? {input} : {})]);

  run('`site show', ['site', 'show', '--site', primary]);
  run('`site show', ['site', 'show', '--site', remote]);
  run('`volume list', ['volume', 'list', '--site', remote]);
  run('`pair display', ['pair', 'display', '--site', primary]);
  run('`write', ['write', '--site', primary, '--vol', String(members[0].mvol), '--offset', '0'], Buffer.alloc(4096, 1));
  host.landed(members[0].mvol, 0, Buffer.alloc(4096, 1));
  run('`mark [', ['mark', '--site', primary, '--app', 'doc']);
  run('`mark [', ['mark', '--site', primary, '--app', 'doc']);
  run('`mark list', ['mark', 'list', '--site', primary]);
  run('Log group status', ['log', 'status', '--site', remote]);
  run('`restore', ['restore', '--site', remote, '--group', '1', '--mark', '1', '--to', path.join(root, 'at-1.img'), '--dry-run']);
  run('`restore', ['restore', '--site', remote, '--group', '1', '--mark', '1', '--to', path.join(root, 'at-1.img')]);
  run('`log export', ['log', 'export', '--site', remote, '--group', '1', '--rvol', String(members[0].rvol), '--format', 'dm-log-writes', '--out', path.join(root, 'export.dmlog')]);
  run('`log apply', ['log', 'apply', '--site', remote, '--group', '1', '--upto', '1']);
  run('`verify', ['verify', '--site', remote]);
  run('`takeover', ['takeover', '--site', remote, '--group', '1', '--mark', 'latest']);
  run('`pair display', ['pair', 'display', '--site', remote]);
  run('`pair resync', ['pair', 'resync', '--site', primary, '--pair', String(members[0].pair), '--reverse']);
  run('`pair resync', ['pair', 'resync', '--site', primary, '--pair', String(members[0].pair), '--reverse']);
  const spare = createVolume(primary, '1M');
  const spareR = createVolume(remote, '1M');
  run('`pair create', ['pair', 'create', '--site', primary, '--mvol', String(spare), '--rvol', String(spareR)]);
  run('`pair delete', ['pair', 'delete', '--site', primary, '--pair', '2']);
  run('`volume create', ['volume', 'create', '--site', primary, '--size', '1M']);

  for (const [heading, document] of documents) {
    const documented = new Set([...namesIn(section(heading)), ...shared]);
    const missing = [...fieldNames(document)].filter(name => !documented.has(name));
    t.deepEqual(missing, [], `${heading}: fields not in JSON.md`);
  }
});
