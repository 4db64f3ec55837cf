import {spawn} from 'node:child_process';
import test from 'ava';
import {BIN} from '../helpers/cli.js';
import {exited, sleep} from '../helpers/processes.js';
import {createVolume, randomBytes, twoSites} from '../helpers/sites.js';
import {readAt, writeFileAt} from '../helpers/volumes.js';

const MiB = 1024 * 1024;

function marklog(args: string[]) {
  return spawn(process.execPath, [BIN, ...args], {stdio: ['pipe', 'pipe', 'pipe']});
}

test('write takes every byte of a 3 MiB block from a pipe that a slow producer fills', async t => {
  const {primary} = twoSites(t);
  const ldev = createVolume(primary, '8M');
  const data = randomBytes(3 * MiB);

  const writer = marklog(['write', '--site', primary, '--vol', String(ldev), '--offset', '4096', '--json']);
  const done = exited(writer);
  writer.stdin.on('error', () => {}); // a writer that gave up early closes the pipe; its exit code tells
  for (let at = 0; at < data.length && writer.exitCode === null; at += 256 * 1024) {
    writer.stdin.write(data.subarray(at, at + 256 * 1024));
    await sleep(20);
  }
  writer.stdin.end();
  const result = await done;

  t.is(result.code, 0, result.stdout + result.stderr);
  t.is(JSON.parse(result.stdout).length, data.length);
  t.deepEqual(readAt(primary, ldev, 4096, data.length), data);
});

test('read delivers every byte of 3 MiB to a pipe that a slow consumer drains', async t => {
  const {primary} = twoSites(t);
  const ldev = createVolume(primary, '8M');
  const data = randomBytes(3 * MiB);
  writeFileAt(primary, ldev, 512, data);

  const reader = marklog(['read', '--site', primary, '--vol', String(ldev), '--offset', '512', '--length', String(data.length)]);
  reader.stdin.end();
  const chunks: Buffer[] = [];
  reader.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  reader.stdout.pause();
  const done = exited(reader);
  await sleep(500);
  reader.stdout.resume();
  const result = await done;

  t.is(result.code, 0, result.stderr);
  const got = Buffer.concat(chunks);
  t.is(got.length, data.length);
  t.true(got.equals(data), 'the bytes are the ones written');
});
