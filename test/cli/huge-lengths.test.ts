import {spawn} from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {BIN, cli, cliJson} from '../helpers/cli.js';
import {measuredCli} from '../helpers/peak-rss.js';
import {exited, killIfRunning, sleep} from '../helpers/processes.js';
import {createVolume, imagePath, snapshot, twoSites} from '../helpers/sites.js';
import {allocatedBytes, imageBytes} from '../helpers/volumes.js';
import {EXIT_CODES} from '../../src/errors.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
/**
 * The promise of OPERATING.md: whatever the length, `read` and `write` take no more
 * memory than the same command moving 4 KiB, give or take one piece (2 MiB) and the
 * heap's own swings. (That command itself peaks at about 60-66 MiB on Node 20,
 * nearly all of it Node and oclif.) The old whole-buffer code grew by the length.
 */
const GROWTH_BOUND = 16 * MiB;
// As an administrator's shell runs it, without ava's NODE_ENV=test.
const env = {NODE_ENV: undefined};

/** Block i of the test data: the same random MiB with i at both ends, so a block out of place shows. */
const pattern = crypto.randomBytes(MiB);
function block(i: number): Buffer {
  const out = Buffer.from(pattern);
  out.writeUInt32LE(i, 0);
  out.writeUInt32LE(i, MiB - 4);
  return out;
}

function* blocks(count: number): Generator<Buffer> {
  for (let i = 0; i < count; i++) yield block(i);
}

function sha256(chunks: Iterable<Buffer>): string {
  const hash = crypto.createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

function boundedMemory(t: ExecutionContext, what: string, peak: number, small: number): void {
  t.true(Number.isFinite(peak) && Number.isFinite(small), `${what}: peak RSS measured`);
  t.true(peak - small <= GROWTH_BOUND, `${what} peaked at ${mib(peak)}, the same command on 4 KiB at ${mib(small)}`);
  t.log(`${what}: peak RSS ${mib(peak)} (4 KiB: ${mib(small)})`);
}

/** A pair in PAIR state, or in log mode with a log that can hold `logSize`. */
function pairedSites(t: Parameters<typeof twoSites>[0], size: string, logSize?: string) {
  const sites = twoSites(t);
  const mvol = createVolume(sites.primary, size);
  const rvol = createVolume(sites.remote, size);
  cliJson(['pair', 'create', '--site', sites.primary, '--mvol', String(mvol), '--rvol', String(rvol)]);
  if (logSize) {
    createVolume(sites.remote, logSize, ['--pool']);
    cliJson(['log', 'start', '--site', sites.primary, '--pairs', '1']);
  }
  return {...sites, mvol, rvol};
}

test('read --length 5G of a 1 MiB volume is OUT_OF_RANGE: one line on stderr, no stack trace, no output file', t => {
  const {root, primary} = twoSites(t);
  const ldev = createVolume(primary, '1M');
  const out = path.join(root, 'out.bin');
  const before = snapshot(root);

  for (const target of [['--out', out], []]) {
    const result = cli(['read', '--site', primary, '--vol', String(ldev), '--offset', '0', '--length', '5G', ...target], {env});
    t.is(result.code, EXIT_CODES.usage, result.stderr);
    t.regex(result.stderr, /^marklog: [^\n]+\n$/, 'one line on stderr');
    t.notRegex(result.stderr, /RangeError|ERR_/);
    t.is(result.stdout, '');
  }
  t.false(fs.existsSync(out));
  t.deepEqual(snapshot(root), before);
});

test('write --file of a 3 GiB file onto a 1 MiB volume is OUT_OF_RANGE before a byte is read', t => {
  const {root, primary} = twoSites(t);
  const ldev = createVolume(primary, '1M');
  const input = path.join(root, 'big.bin');
  fs.closeSync(fs.openSync(input, 'w'));
  fs.truncateSync(input, 3 * GiB);
  const before = snapshot(primary);

  const result = cli(['write', '--site', primary, '--vol', String(ldev), '--offset', '0', '--file', input, '--json'], {env});
  t.is(result.code, EXIT_CODES.usage, result.stdout + result.stderr);
  t.is(JSON.parse(result.stdout).error.code, 'OUT_OF_RANGE');
  t.deepEqual(snapshot(primary), before);
});

test('read of 5 GiB of a sparse 6 GiB volume streams: each byte in place across 4 GiB, the output file sparse, memory bounded', async t => {
  const {root, primary} = twoSites(t);
  const ldev = createVolume(primary, '6G');
  const written = [
    {offset: GiB + 3, data: block(1)},
    {offset: 4 * GiB - 1000, data: block(2)},
    {offset: 5 * GiB + 77, data: block(3)},
  ];
  for (const {offset, data} of written) {
    const file = path.join(root, 'piece.bin');
    fs.writeFileSync(file, data);
    cliJson(['write', '--site', primary, '--vol', String(ldev), '--offset', String(offset), '--file', file]);
  }
  const out = path.join(root, 'out.bin');
  const from = GiB / 2;
  const small = await measuredCli(['read', '--site', primary, '--vol', String(ldev), '--offset', String(from), '--length', '4K', '--out', out]);

  const started = Date.now();
  const read = await measuredCli(['read', '--site', primary, '--vol', String(ldev), '--offset', String(from), '--length', '5G', '--out', out]);
  const took = Date.now() - started;
  t.is(read.code, 0, read.stderr);
  t.is(fs.statSync(out).size, 5 * GiB);
  for (const {offset, data} of written) t.deepEqual(imageBytes(out, offset - from, data.length), data, `bytes at ${offset}`);
  t.deepEqual(imageBytes(out, 4 * GiB - from + MiB, 4096), Buffer.alloc(4096), 'a hole reads as zeros');
  t.true(allocatedBytes(out) <= 16 * MiB, `the output holds ${mib(allocatedBytes(out))} on disk`);
  boundedMemory(t, `5 GiB sparse read (${took} ms)`, read.peakRss, small.peakRss);
});

test('a 256 MiB write from a file and a 256 MiB read to a pipe take no more memory than 4 KiB do; the R-VOL of the PAIR pair gets every block', async t => {
  const {root, primary, remote, mvol, rvol} = pairedSites(t, '320M');
  const input = path.join(root, 'input.bin');
  const fd = fs.openSync(input, 'w');
  for (const data of blocks(256)) fs.writeSync(fd, data);
  fs.closeSync(fd);
  const offset = MiB + 512;
  const small = path.join(root, 'small.bin');
  fs.writeFileSync(small, block(0).subarray(0, 4096));
  const smallWrite = await measuredCli(['write', '--site', primary, '--vol', String(mvol), '--offset', String(offset), '--file', small]);

  const write = await measuredCli(['write', '--site', primary, '--vol', String(mvol), '--offset', String(offset), '--file', input]);
  t.is(write.code, 0, write.stderr);
  boundedMemory(t, '256 MiB write from a file', write.peakRss, smallWrite.peakRss);
  for (const i of [0, 1, 128, 255]) {
    t.deepEqual(imageBytes(imagePath(primary, mvol), offset + i * MiB, MiB), block(i), `M-VOL block ${i}`);
    t.deepEqual(imageBytes(imagePath(remote, rvol), offset + i * MiB, MiB), block(i), `R-VOL block ${i}`);
  }
  t.like(cliJson(['pair', 'display', '--site', primary, '--pair', '1']).pairs[0], {state: 'PAIR', dirtyChunks: 0});

  const smallRead = await measuredCli(['read', '--site', primary, '--vol', String(mvol), '--offset', String(offset), '--length', '4K'], {stdout() {}});
  const hash = crypto.createHash('sha256');
  let length = 0;
  const read = await measuredCli(['read', '--site', primary, '--vol', String(mvol), '--offset', String(offset), '--length', '256M'], {
    stdout(chunk) {
      hash.update(chunk);
      length += chunk.length;
    },
  });
  t.is(read.code, 0, read.stderr);
  t.is(length, 256 * MiB);
  t.is(hash.digest('hex'), sha256(blocks(256)));
  boundedMemory(t, '256 MiB read to a pipe', read.peakRss, smallRead.peakRss);
});

test('a 256 MiB write from a pipe of unknown length streams into the log in bounded memory, and the mark after it restores every block', async t => {
  const {root, primary, remote, mvol, rvol} = pairedSites(t, '320M', '300M');
  const offset = 3 * MiB;
  const small = await measuredCli(['write', '--site', primary, '--vol', String(mvol), '--offset', String(offset)], {stdin: [block(0).subarray(0, 4096)]});
  let stdout = '';

  const write = await measuredCli(['write', '--site', primary, '--vol', String(mvol), '--offset', String(offset), '--json'], {
    stdin: blocks(256),
    stdout(chunk) {
      stdout += chunk;
    },
  });
  t.is(write.code, 0, write.stderr);
  boundedMemory(t, '256 MiB logged write from a pipe', write.peakRss, small.peakRss);
  const result = JSON.parse(stdout);
  t.is(result.length, 256 * MiB);
  // Several records, one per piece, with consecutive log IDs.
  const logIds = result.logged.map((entry: {logId: number}) => entry.logId);
  t.true(logIds.length > 1, `${logIds.length} record(s)`);
  t.deepEqual(logIds, logIds.map((_: number, i: number) => logIds[0] + i));

  const {markId} = cliJson(['mark', '--site', primary]);
  const restored = path.join(root, 'restored.img');
  cliJson(['restore', '--site', remote, '--group', '1', '--mark', String(markId), '--rvol', String(rvol), '--to', restored]);
  for (const i of [0, 1, 77, 255]) t.deepEqual(imageBytes(restored, offset + i * MiB, MiB), block(i), `restored block ${i}`);
});

test('no mark lands between the pieces of one write: a mark issued while a piped write waits for more input comes after all its records', async t => {
  const {primary, mvol} = pairedSites(t, '64M', '64M');
  const writer = spawn(process.execPath, [BIN, 'write', '--site', primary, '--vol', String(mvol), '--offset', '0', '--json'], {stdio: ['pipe', 'pipe', 'pipe']});
  t.teardown(() => killIfRunning(writer));
  const wrote = exited(writer);
  writer.stdin.write(Buffer.alloc(20 * MiB, 0x11));
  // Wait until the first piece has reached the M-VOL: the write is under way.
  const deadline = Date.now() + 120_000;
  while (imageBytes(imagePath(primary, mvol), 0, 1)[0] !== 0x11) {
    if (Date.now() > deadline) throw new Error('the first piece of the write did not reach the M-VOL within 120 s (is the input read whole before writing?)');
    await sleep(20);
  }
  const marker = spawn(process.execPath, [BIN, 'mark', '--site', primary, '--json'], {stdio: ['ignore', 'pipe', 'pipe']});
  const marked = exited(marker);
  // Give the mark time to ask for the site; if it is slower, it comes after the write anyway.
  await sleep(500);
  writer.stdin.end(Buffer.alloc(4 * MiB, 0x22));
  const [w, m] = await Promise.all([wrote, marked]);

  t.is(w.code, 0, w.stderr);
  t.is(m.code, 0, m.stderr);
  const logIds: number[] = JSON.parse(w.stdout).logged.map((entry: {logId: number}) => entry.logId);
  const mark = JSON.parse(m.stdout);
  t.true(logIds.length > 1, `${logIds.length} record(s)`);
  t.false(mark.logId > Math.min(...logIds) && mark.logId < Math.max(...logIds), `mark at log ID ${mark.logId} inside the write's records ${logIds.join(',')}`);
});

test('write --length promises the input: a shorter pipe is refused with INPUT_SHORT, and a range past the end with OUT_OF_RANGE before any input', t => {
  const {primary} = twoSites(t);
  const ldev = createVolume(primary, '1M');
  const before = snapshot(primary);

  const short = cli(['write', '--site', primary, '--vol', String(ldev), '--offset', '0', '--length', '64K', '--json'], {input: Buffer.alloc(1000, 1), env});
  t.is(short.code, EXIT_CODES.usage, short.stdout + short.stderr);
  t.is(JSON.parse(short.stdout).error.code, 'INPUT_SHORT');
  const human = cli(['write', '--site', primary, '--vol', String(ldev), '--offset', '0', '--length', '64K'], {input: Buffer.alloc(1000, 1), env});
  t.regex(human.stderr, /^marklog: [^\n]+\n$/, 'one line on stderr');

  const past = cli(['write', '--site', primary, '--vol', String(ldev), '--offset', '0', '--length', '5G', '--json'], {input: Buffer.alloc(1000, 1), env});
  t.is(past.code, EXIT_CODES.usage);
  t.is(JSON.parse(past.stdout).error.code, 'OUT_OF_RANGE');
  t.deepEqual(snapshot(primary), before, 'nothing on disk changed');
});
