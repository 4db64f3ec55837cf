// A change made behind marklog's back (issue 12, item 2): a file system changed
// directly on the M-VOL image leaves the pair in PAIR with no dirty chunk; verify
// --deep finds it, and the command its finding advises (`pair resync --full`) repairs
// it, so verify is clean again.
import fs from 'node:fs';
import test from 'ava';
import {cliJson} from '../helpers/cli.js';
import {followAdvice, verifyAt} from '../helpers/advice.js';
import {createVolume, imagePath, randomBytes, sha256, twoSites, writeAt} from '../helpers/sites.js';
import {cli} from '../helpers/cli.js';

test('an M-VOL changed behind marklog\'s back: verify --deep reports it, its advice (pair resync --full) repairs it, verify is clean', t => {
  const {primary, remote} = twoSites(t);
  const mvol = createVolume(primary, '1M');
  const rvol = createVolume(remote, '1M');
  writeAt(primary, mvol, 0, randomBytes(300_000));
  cliJson(['pair', 'create', '--site', primary, '--mvol', String(mvol), '--rvol', String(rvol)]);
  const fd = fs.openSync(imagePath(primary, mvol), 'r+');
  fs.writeSync(fd, randomBytes(4096), 0, 4096, 700_000);
  fs.closeSync(fd);
  const plain = cliJson(['pair', 'resync', '--site', primary, '--pair', '1']);
  t.is(plain.copiedBytes, 0, 'the bitmap never saw the change: a plain resync copies nothing');

  const deep = cli(['verify', '--site', primary, '--deep', '--json']);
  t.is(deep.code, 9);
  const finding = JSON.parse(deep.stdout).findings.find((f: any) => f.check === 'pair-content');
  t.truthy(finding, deep.stdout);
  t.regex(finding.action, /marklog pair resync --site .* --pair 1 --full/);
  followAdvice(t, finding.action);

  t.is(cli(['verify', '--site', primary, '--deep', '--json']).code, 0);
  t.is(sha256(imagePath(primary, mvol)), sha256(imagePath(remote, rvol)));
  const again = cliJson(['pair', 'display', '--site', primary]).pairs[0];
  t.like(again, {state: 'PAIR', dirtyChunks: 0});
  t.is(verifyAt(remote).exitCode, 0);
});

test('pair resync --full from PAIR copies every chunk; with --reverse it is refused and changes nothing', t => {
  const {primary, remote} = twoSites(t);
  const mvol = createVolume(primary, '1M');
  const rvol = createVolume(remote, '1M');
  writeAt(primary, mvol, 0, randomBytes(1024 * 1024));
  cliJson(['pair', 'create', '--site', primary, '--mvol', String(mvol), '--rvol', String(rvol)]);
  const full = cliJson(['pair', 'resync', '--site', primary, '--pair', '1', '--full']);
  t.like(full, {previous: 'PAIR', state: 'PAIR', copiedBytes: 1024 * 1024});
  const refused = cli(['pair', 'resync', '--site', primary, '--pair', '1', '--full', '--reverse', '--json']);
  t.is(refused.code, 2);
});
