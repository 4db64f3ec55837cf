import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import test from 'ava';
import {blockFor} from '../helpers/crash-blocks.js';
import {digest} from '../helpers/logging.js';
import {loggedPair} from '../helpers/library-sites.js';
import {issueMark} from '../../src/mark/mark.js';
import {marksInLog} from '../../src/mark/remote-marks.js';
import {restoreToMark} from '../../src/restore/restore.js';
import {verifySite} from '../../src/verify/verify.js';
import {logStatus} from '../../src/log/log-admin.js';

const DRIVER = fileURLToPath(new URL('../helpers/crash-driver.js', import.meta.url));
const KILLS = Number(process.env.MARKLOG_KILLS ?? 100);
const CAPACITY = 4 * 1024 * 1024;
/**
 * Room in the log for every round (sparse: only what is written takes space). A
 * round writes for up to 150 ms, several MiB through a HostWriter; the log is never
 * applied here, since every sampled mark is restored at the end.
 */
const LOG_CAPACITY = Math.max(256, KILLS * 8) * 1024 * 1024;

interface Round {
  lines: string[];
  killed: boolean;
}

/** Runs the driver, lets it work for a random moment after its first line, then SIGKILLs it. */
function runAndKill(args: string[], random: () => number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DRIVER, ...args], {stdio: ['ignore', 'pipe', 'pipe']});
    let out = '';
    let err = '';
    let armed = false;
    child.stdout.on('data', chunk => {
      out += chunk;
      if (!armed) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), Math.floor(random() * 150));
      }
    });
    child.stderr.on('data', chunk => {
      err += chunk;
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`driver ended by itself: ${err}`));
      else resolve({lines: out.split('\n').filter(Boolean), killed: true});
    });
  });
}

test('SIGKILL at random moments of writes and marks (one call each, or through a HostWriter): every acknowledged write and mark survives and restores exactly', async t => {
  const seed = Number(process.env.MARKLOG_TEST_SEED ?? Date.now() % 100_000);
  t.log(`seed ${seed}, ${KILLS} kills`);
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const {root, p, r, primary, remote, mvol, rvol, group} = await loggedPair(t, CAPACITY, LOG_CAPACITY);
  const mvolFile = path.join(p, 'volumes', `ldev-${String(mvol).padStart(4, '0')}.img`);

  const model = Buffer.alloc(CAPACITY);
  // The model's digest at each mark checked at the end (a 4 MiB copy of the model per
  // mark filled the soak's memory: 11 GB).
  const snapshots = new Map<number, string>();
  const acknowledgedMarks: number[] = [];
  let kills = 0;
  for (let round = 1; round <= KILLS; round++) {
    const roundSeed = seed * 1000 + round;
    // Every other round writes through a HostWriter, which keeps the locks between writes.
    const mode = round % 2 === 0 ? 'writer' : 'call';
    const {lines, killed} = await runAndKill([p, String(mvol), String(CAPACITY), String(roundSeed), mode], random);
    if (killed) kills++;
    let inFlight: {offset: number; length: number} | undefined;
    const roundMarks: [number, string][] = [];
    for (const line of lines) {
      const [what, kind, ...rest] = line.split(' ');
      if (what === 'begin') {
        inFlight = kind === 'write' ? {offset: Number(rest[1]), length: Number(rest[2])} : undefined;
      } else if (what === 'write') {
        const {offset, data} = blockFor(roundSeed, Number(kind), CAPACITY);
        data.copy(model, offset);
        inFlight = undefined;
      } else if (what === 'mark') {
        const markId = Number(rest[0]);
        acknowledgedMarks.push(markId);
        if (round % 10 === 0) roundMarks.push([markId, digest(model)]);
      }
    }
    // The first and the last mark of every tenth round are restored at the end (each
    // restore reads the whole log, and with 1,000 kills the rounds hold tens of thousands).
    for (const checked of new Set([roundMarks[0], roundMarks.at(-1)])) if (checked) snapshots.set(...checked);
    // An unacknowledged write may or may not have landed: the M-VOL decides, and
    // the next command sends that region on to the log before any later mark.
    if (inFlight) {
      const fd = fs.openSync(mvolFile, 'r');
      fs.readSync(fd, model, inFlight.offset, inFlight.length, inFlight.offset);
      fs.closeSync(fd);
    }
  }
  t.true(kills >= KILLS, `${kills} kill points`);

  const last = await issueMark(primary, {app: 'after the kills'});
  t.log(`log used: ${logStatus(remote, group).groups[0].usage.used} of ${LOG_CAPACITY} bytes`);
  snapshots.set(last.markId, digest(model));
  t.true(fs.readFileSync(mvolFile).equals(model), 'the M-VOL holds every acknowledged write');

  const inLog = new Set(marksInLog(remote, group).map(m => m.markId));
  t.deepEqual(acknowledgedMarks.filter(id => !inLog.has(id)), [], 'every acknowledged mark is in the remote log');
  for (const site of [p, r]) t.deepEqual((await verifySite(site)).findings, [], `verify is clean at ${path.basename(site)}`);

  for (const [markId, expected] of snapshots) {
    const file = path.join(root, `mark-${markId}.img`);
    await restoreToMark(remote, {group, markId, rvol, target: {kind: 'file', path: file}});
    t.is(digest(fs.readFileSync(file)), expected, `mark ${markId} restores exactly (seed ${seed})`);
    fs.rmSync(file);
  }
});
