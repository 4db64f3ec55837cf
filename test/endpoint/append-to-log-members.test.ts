// Fig. 19 at the remote: a log group's log holds the writes of its member R-VOLs,
// the volumes whose base the log start froze (Fig. 17). A record for any other LDEV
// belongs to no base a restore rebuilds, so the remote refuses the whole request
// before it appends anything, whichever way the request came: the directory link
// in this process or `marklog agent`.
import test from 'ava';
import {InvalidArgumentError} from '../../src/errors.js';
import {linkOf} from '../../src/site/link-opener.js';
import {Site} from '../../src/site/site.js';
import {entriesToWire} from '../../src/endpoint/methods.js';
import type {NewEntry} from '../../src/log/journal.js';
import {loggingSites} from '../helpers/logging.js';
import {createVolume, randomBytes, snapshot} from '../helpers/sites.js';
import {WireClient} from '../helpers/wire-client.js';

async function appendThroughPrimary(primaryDir: string, group: number, entries: NewEntry[]): Promise<unknown> {
  const primary = Site.open(primaryDir);
  try {
    return await (await linkOf(primary, primary.tables())).appendToLog(group, entries);
  } finally {
    primary.close();
  }
}

test('Fig. 19: a write record for an LDEV outside the log group is refused as INVALID_ARGUMENT, with the member\'s write beside it, and the log is unchanged', async t => {
  const sites = loggingSites(t);
  const [{mvol, rvol}] = sites.members;
  const stranger = createVolume(sites.remote, '1M');
  const before = sites.host.writeRandom(mvol, 0, 4096).logged[0].logId;
  sites.host.mark('db');
  const remoteBefore = snapshot(sites.remote);

  const error = await t.throwsAsync(appendThroughPrimary(sites.primary, sites.group, [
    {kind: 'write', ldev: rvol, address: 8192, data: randomBytes(512)},
    {kind: 'write', ldev: stranger, address: 0, data: randomBytes(512)},
  ]), {instanceOf: InvalidArgumentError});
  t.is(error?.code, 'INVALID_ARGUMENT');
  t.deepEqual(snapshot(sites.remote), remoteBefore, 'nothing was appended, not even the member\'s record');

  // The log goes on where it was: the refused request spent no log ID.
  t.is(sites.host.writeRandom(mvol, 4096, 4096).logged[0].logId, before + 2);
});

test('over marklog agent, a zero record for the group\'s own log volume is refused as INVALID_ARGUMENT and nothing changes at the remote', async t => {
  const sites = loggingSites(t);
  sites.host.writeRandom(sites.members[0].mvol, 0, 4096);
  const remoteBefore = snapshot(sites.remote);
  const client = new WireClient(sites.remote);
  t.teardown(() => {
    if (client.child.exitCode === null) client.child.kill('SIGKILL');
  });
  await client.hello();

  const zero = entriesToWire([{kind: 'zero', ldev: sites.logLdev!, address: 0, length: 4096}]);
  const error = await t.throwsAsync(client.call('appendToLog', {group: sites.group, entries: zero.entries}), {instanceOf: InvalidArgumentError});
  t.is(error?.code, 'INVALID_ARGUMENT');
  t.deepEqual(snapshot(sites.remote), remoteBefore);
});
