import fs from 'node:fs';
import test from 'ava';
import {cliJson} from '../helpers/cli.js';
import {RUN_PID, killCommandAt} from '../helpers/crash-trace.js';
import {createVolume, tempDir, twoSites} from '../helpers/sites.js';

const temporaries = (dir: string) => fs.readdirSync(dir).filter(name => name.includes('.tmp-'));

test('a command killed between writing new tables and renaming them leaves a temporary, and the next change of those tables removes it', async t => {
  const {root, primary, remote} = twoSites(t);
  createVolume(primary, '1M');
  createVolume(remote, '1M');
  cliJson(['pair', 'create', '--site', primary, '--mvol', '0', '--rvol', '0']);
  const args = ['pair', 'suspend', '--site', primary, '--pair', '1'];

  const rename = {call: 'rename', path: `${primary}/tables.json.tmp-${RUN_PID}`, onPath: 1, text: 'rename of the new tables', changes: true};
  const killed = await killCommandAt({root, scratch: tempDir(t)}, args, rename);
  t.is(killed.signal, 'SIGKILL');
  t.deepEqual(temporaries(primary), [`tables.json.tmp-${RUN_PID}`], 'the killed command left its temporary');

  t.is(cliJson(args).state, 'PSUS');
  t.deepEqual(temporaries(primary), []);
});
