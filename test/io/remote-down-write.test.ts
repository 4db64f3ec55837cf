// Path failure before the first byte (the patent's PSUE, docs/OPERATING.md §7): a host
// write to a pair in PAIR whose remote cannot be reached at all (the link does not
// open) is kept on the M-VOL, its chunk is tracked, the pair goes to PSUE and the
// write succeeds with a warning, as when the link fails mid-stream. A remote that is
// down must not stop the primary's hosts. Before, the write failed with
// REMOTE_UNREACHABLE (exit 6) after it had reached the M-VOL, the pair stayed PAIR with
// no bit set, and every later write failed the same way until the remote was back.
import fs from 'node:fs';
import test from 'ava';
import {cli, cliJson} from '../helpers/cli.js';
import {createVolume, imagePath, randomBytes, twoSites} from '../helpers/sites.js';

test('a host write while the remote cannot be reached at all is kept on the M-VOL, suspends the pair with its chunk tracked, and succeeds; a resync once the remote is back makes the R-VOL identical', t => {
  const {primary, remote} = twoSites(t);
  createVolume(primary, '4M');
  createVolume(remote, '4M');
  cliJson(['pair', 'create', '--site', primary, '--mvol', '0', '--rvol', '0']);

  fs.renameSync(remote, `${remote}.away`);
  const data = randomBytes(4096);
  const written = cli(['write', '--site', primary, '--vol', '0', '--offset', String(128 * 1024), '--json'], {input: data, env: {MARKLOG_LINK_RETRIES: '0'}});
  t.is(written.code, 0, written.stderr);
  t.regex(JSON.parse(written.stdout).warnings.join('\n'), /pair 1 is now PSUE \(.*does not answer/);
  const again = cli(['write', '--site', primary, '--vol', '0', '--offset', '0'], {input: data, env: {MARKLOG_LINK_RETRIES: '0'}});
  t.is(again.code, 0, 'the next write goes on too');
  t.like(cliJson(['pair', 'display', '--site', primary]).pairs[0], {state: 'PSUE', dirtyChunks: 2});
  t.true(fs.readFileSync(imagePath(primary, 0)).subarray(128 * 1024, 132 * 1024).equals(data), 'the write is on the M-VOL');

  fs.renameSync(`${remote}.away`, remote);
  cliJson(['pair', 'resync', '--site', primary, '--pair', '1']);
  t.true(fs.readFileSync(imagePath(remote, 0)).equals(fs.readFileSync(imagePath(primary, 0))), 'the R-VOL is identical after the resync');
  t.is(cli(['verify', '--site', primary]).code, 0);
});
