// The rsync/borg pattern (issue 15, item 3): the primary's side starts the remote's
// agent with `ssh host marklog agent --site DIR` and speaks the wire protocol over
// ssh's standard input and output. Here the host is OpenSSH's sshd on loopback with
// throwaway keys (test/helpers/sshd.ts); the remote's directory is touched only by
// the agent sshd started.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {InvalidArgumentError, VolumeNotFoundError} from '../../src/errors.js';
import {initSite} from '../../src/site/site-admin.js';
import {Site} from '../../src/site/site.js';
import {createVolume} from '../../src/volume/volume-admin.js';
import {imagePath, randomBytes, tempDir} from '../helpers/sites.js';
import {sshServer} from '../helpers/sshd.js';
import {WireClient} from '../helpers/wire-client.js';

const MiB = 1024 * 1024;
const claim = {pair: 1, primarySite: 'e6c8da65d963855a', mvol: 0};

test('Fig. 14 over ssh: an agent started by ssh on the remote host reserves an R-VOL, takes replicated writes pipelined before any answer, reads them back and makes them durable', async t => {
  const server = await sshServer(t);
  const remote = path.join(tempDir(t), 'osaka');
  initSite({dir: remote, role: 'remote'});
  const site = Site.open(remote);
  createVolume(site, 4 * MiB);
  site.close();

  const client = new WireClient(remote, {}, server.ssh);
  t.teardown(() => {
    if (client.child.exitCode === null) client.child.kill('SIGKILL');
  });
  const welcome = await client.hello();
  t.is(welcome.site.role, 'remote');
  t.is(welcome.site.id, JSON.parse(fs.readFileSync(path.join(remote, 'tables.json'), 'utf8')).site.id);

  await client.call('reserveRvol', {ldev: 0, claim, minCapacity: 4 * MiB});
  const blocks = Array.from({length: 32}, () => randomBytes(64 * 1024));
  const ids = blocks.map((data, i) => client.request('writeRvol', {ldev: 0, offset: i * data.length}, data));
  for (const id of ids) t.is((await client.answer(id)).type, 'response', `write ${id}`);
  await client.call('flushRvol', {ldev: 0});
  const {data} = await client.call('readRvol', {ldev: 0, offset: 0, length: 32 * 64 * 1024});
  t.true(data.equals(Buffer.concat(blocks)), 'the R-VOL holds every write, read back through the agent');
  t.true(fs.readFileSync(imagePath(remote, 0)).subarray(0, data.length).equals(data), 'and on the remote host\'s disk');
  await t.throwsAsync(client.call('describeVolume', {ldev: 'x'}), {instanceOf: InvalidArgumentError});
  await t.throwsAsync(client.call('writeRvol', {ldev: 7, offset: 0}, Buffer.alloc(512)), {instanceOf: VolumeNotFoundError});

  client.bye();
  const exit = await client.exited;
  t.is(exit.code, 0, `ssh ended with ${exit.code}: ${exit.stderr}`);
});
