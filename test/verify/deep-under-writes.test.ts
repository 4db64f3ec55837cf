// verify --deep on a pair in PAIR while a host keeps writing to it (issue 11, defect 11):
// M-VOL and R-VOL are read chunk by chunk without the lock, so a write can land
// between the two reads of a chunk. Such a difference is not a finding; only one
// confirmed under the site lock (re-read on both sides, pair still PAIR, chunk not
// dirty) is. A real difference must still be reported while the host writes.
import fs from 'node:fs';
import test from 'ava';
import {cliJson, cliSpawn} from '../helpers/cli.js';
import {exited, firstLine, helperProgram, killIfRunning} from '../helpers/processes.js';
import {createVolume, imagePath, twoSites} from '../helpers/sites.js';

const CAPACITY = 1024 * 1024;
/** Small chunks: 256 per volume, so one run compares 256 pairs of reads a write can fall between. */
const CHUNK = 4096;
async function writingPair(t: Parameters<typeof twoSites>[0], region: number) {
  const sites = twoSites(t);
  const mvol = createVolume(sites.primary, '1M');
  const rvol = createVolume(sites.remote, '1M');
  cliJson(['pair', 'create', '--site', sites.primary, '--mvol', String(mvol), '--rvol', String(rvol), '--chunk-size', String(CHUNK)]);
  const writer = helperProgram('pair-writer', [sites.primary, String(mvol), String(region)]);
  t.teardown(() => killIfRunning(writer));
  t.is(await firstLine(writer), 'writing');
  return {...sites, mvol, rvol, writer};
}

/** One `verify --deep --json` run, without blocking this process's event loop (the writer's pipe keeps flowing). */
async function verifyDeep(site: string) {
  const result = await exited(cliSpawn(['verify', '--site', site, '--deep', '--json']));
  return {code: result.code, findings: (JSON.parse(result.stdout).findings ?? []) as {check: string; message: string}[], stdout: result.stdout};
}

test('verify --deep during a burst of host writes to a PAIR pair: every run is clean (exit 0)', async t => {
  const {primary, writer} = await writingPair(t, CAPACITY);
  const runs = [];
  for (let run = 0; run < 6; run++) runs.push(await verifyDeep(primary));
  t.is(writer.exitCode, null, 'the host was still writing');
  t.deepEqual(runs.map(r => r.code), Array(runs.length).fill(0), runs.filter(r => r.code !== 0).map(r => r.stdout).join('\n'));
});

test('verify --deep during a burst of host writes still reports bytes changed behind marklog\'s back on the R-VOL (exit 9, the chunk named)', async t => {
  // The host writes to the first half; chunk 200 is left alone.
  const {primary, remote, rvol, writer} = await writingPair(t, 128 * CHUNK);
  const fd = fs.openSync(imagePath(remote, rvol), 'r+');
  fs.writeSync(fd, Buffer.from('not written through marklog'), 0, 27, 200 * CHUNK + 100);
  fs.closeSync(fd);
  for (let run = 0; run < 3; run++) {
    const {code, findings} = await verifyDeep(primary);
    t.is(code, 9);
    t.deepEqual(findings.map(f => f.check), ['pair-content']);
    t.regex(findings[0].message, /^1 chunk\(s\) differ .*\(first: chunk 200\)/);
  }
  t.is(writer.exitCode, null, 'the host was still writing');
});
