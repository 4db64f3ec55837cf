// A log an earlier marklog wrote (format v1, test/fixtures/log-v1) stays readable and
// restorable: every mark restores byte for byte, and verify finds it clean.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import test from 'ava';
import {cli, cliJson} from '../helpers/cli.js';
import {tempDir} from '../helpers/sites.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/log-v1/remote', import.meta.url));

/** The base and the writes of the fixture's README, applied in order, as the host saw them. */
function expectedAt(mark: 1 | 2): Buffer {
  const image = Buffer.from(Array.from({length: 65536}, (_, i) => (i * 7 + 3) % 251));
  image.write('first write, unaligned', 1000, 'latin1');
  image.fill(0xab, 4096, 4096 + 8192);
  if (mark === 2) {
    image.write('overwrites part of the first', 1010, 'latin1');
    image.fill(0xcd, 60000, 65000);
  }
  return image;
}

const sha256 = (data: Buffer) => crypto.createHash('sha256').update(data).digest('hex');

test('Fig. 23 on a v1 log: each mark of a log an earlier marklog wrote restores byte for byte, and verify is clean', t => {
  const site = path.join(tempDir(t), 'remote');
  fs.cpSync(FIXTURE, site, {recursive: true});
  const header = fs.readFileSync(path.join(site, 'volumes', 'ldev-0001.img')).subarray(0, 12);
  t.is(header.readUInt32LE(8), 1, 'the fixture\'s log volume is format v1');
  for (const mark of [1, 2] as const) {
    const out = path.join(site, '..', `at-${mark}.img`);
    const result = cliJson(['restore', '--site', site, '--group', '1', '--mark', String(mark), '--to', out]);
    t.is(result.app, `fixture-${mark}`);
    t.is(sha256(fs.readFileSync(out)), sha256(expectedAt(mark)), `mark ${mark}`);
  }
  const verify = cli(['verify', '--site', site, '--json']);
  t.is(verify.code, 0, verify.stdout);
  t.deepEqual(JSON.parse(verify.stdout).findings, []);
});
