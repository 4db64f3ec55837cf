// fsx's byte-range locks (lockRange, unlockRange, rangeHeldElsewhere): Linux
// open-file-description locks on 32-byte slots, as each slot of a site's `inflight`
// file will be held by the live process whose write it records. What is checked is
// what a wrong lock would get wrong: classic process-owned fcntl locks would not
// conflict between two descriptors of one process and would be dropped by closing
// any descriptor of the file; a length of 0 would lock to the end of the file.
import {spawn, type ChildProcess} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import test, {type ExecutionContext} from 'ava';
import {fsx} from '../../src/native/fsx.js';
import {exited, firstLine, killIfRunning} from '../helpers/processes.js';

const SLOT = 32;
const SLOTS = 8;

/** A file of SLOTS zeroed slots in a fresh directory, removed after the test. */
function slotFile(t: ExecutionContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marklog-ofd-'));
  t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));
  const file = path.join(dir, 'inflight');
  fs.writeFileSync(file, Buffer.alloc(SLOTS * SLOT));
  return file;
}

/**
 * A descriptor of its own (a new open file description), closed after the test. The
 * tests run one at a time, so a number a test closed itself is not someone else's yet.
 */
function open(t: ExecutionContext, file: string, flags = 'r+'): number {
  const fd = fs.openSync(file, flags);
  t.teardown(() => {
    try {
      fs.closeSync(fd);
    } catch {
      // closed by the test itself
    }
  });
  return fd;
}

/** The slots of the file that another open file description than fd's holds a lock on. */
function heldSlots(fd: number): number[] {
  return [...Array(SLOTS).keys()].filter(slot => fsx.rangeHeldElsewhere(fd, slot * SLOT, SLOT));
}

/** test/helpers/range-locker in a process of its own, locking `slots`; stdin open for "unlock <slot>". */
function rangeLocker(t: ExecutionContext, file: string, slots: number[]): ChildProcess {
  const program = fileURLToPath(new URL('../helpers/range-locker.js', import.meta.url));
  const child = spawn(process.execPath, [program, file, ...slots.map(String)], {stdio: ['pipe', 'pipe', 'pipe']});
  t.teardown(() => killIfRunning(child));
  return child;
}

test.serial('a range locked through one descriptor is held as seen from a second descriptor of the same process, never from the first', t => {
  const file = slotFile(t);
  const a = open(t, file);
  const b = open(t, file);
  t.deepEqual(heldSlots(a), []);
  t.deepEqual(heldSlots(b), []);

  t.true(fsx.lockRange(a, 2 * SLOT, SLOT, true));
  t.deepEqual(heldSlots(b), [2], 'B sees A\'s lock: the lock is the open file description\'s, not the process\'s');
  t.deepEqual(heldSlots(a), [], 'A\'s own lock never counts against A');
  t.false(fsx.lockRange(b, 2 * SLOT, SLOT, true), 'B cannot take it exclusive');
  t.false(fsx.lockRange(b, 2 * SLOT, SLOT, false), 'nor shared');
  t.false(fsx.lockRange(b, 2 * SLOT + 31, 2, true), 'nor any range overlapping one byte of it');
  t.true(fsx.lockRange(b, 3 * SLOT, SLOT, true), 'the next slot is free for B');
  t.true(fsx.lockRange(a, 2 * SLOT, SLOT, true), 'A taking its own lock again is no conflict');
  t.deepEqual(heldSlots(a), [3]);
  t.deepEqual(heldSlots(b), [2]);

  // Closing some other descriptor of the file drops nothing (a process-owned lock would be gone).
  fs.closeSync(fs.openSync(file, 'r'));
  t.deepEqual(heldSlots(b), [2]);
  t.deepEqual(heldSlots(a), [3]);

  fsx.unlockRange(a, 2 * SLOT, SLOT);
  t.deepEqual(heldSlots(b), []);
  t.true(fsx.lockRange(b, 2 * SLOT, SLOT, true), 'once A lets go, B takes it');
  t.deepEqual(heldSlots(a), [2, 3]);

  // Closing A's descriptor drops whatever A still holds.
  t.true(fsx.lockRange(a, 5 * SLOT, SLOT, true));
  t.deepEqual(heldSlots(b), [5]);
  fs.closeSync(a);
  t.deepEqual(heldSlots(b), []);
});

test.serial('shared range locks: two descriptors share one, neither can make it exclusive, and each sees the other\'s', t => {
  const file = slotFile(t);
  const a = open(t, file);
  const b = open(t, file);
  t.true(fsx.lockRange(a, SLOT, SLOT, false));
  t.true(fsx.lockRange(b, SLOT, SLOT, false), 'a shared lock does not block another shared one');
  t.deepEqual(heldSlots(a), [1], 'B\'s shared lock is held as seen from A');
  t.deepEqual(heldSlots(b), [1]);
  t.false(fsx.lockRange(a, SLOT, SLOT, true), 'A cannot upgrade while B shares it');
  fsx.unlockRange(b, SLOT, SLOT);
  t.deepEqual(heldSlots(a), []);
  t.true(fsx.lockRange(a, SLOT, SLOT, true), 'alone, A can');
  t.deepEqual(heldSlots(b), [1]);
});

test.serial('a child process\'s slot locks are held while it lives and free the moment it is killed with SIGKILL, with no cleanup', async t => {
  const file = slotFile(t);
  const child = rangeLocker(t, file, [1, 3, 4]);
  const exit = exited(child);
  t.is(await firstLine(child, undefined, 'the range locker'), 'held');
  const fd = open(t, file);

  t.deepEqual(heldSlots(fd), [1, 3, 4]);
  for (const slot of [1, 3, 4]) t.false(fsx.lockRange(fd, slot * SLOT, SLOT, true), `slot ${slot} is the live child's`);
  t.true(fsx.lockRange(fd, 2 * SLOT, SLOT, true), 'slot 2 is free between them');
  fsx.unlockRange(fd, 2 * SLOT, SLOT);
  t.is(child.exitCode, null);
  t.deepEqual(heldSlots(fd), [1, 3, 4], 'still held: nothing lapses while the holder lives');

  child.kill('SIGKILL');
  const {signal, stdout} = await exit;
  t.is(signal, 'SIGKILL');
  t.is(stdout, 'held\n');
  // No waiting, no unlocking on its behalf: the kernel dropped them as it closed the dead process's files.
  t.deepEqual(heldSlots(fd), []);
  for (const slot of [1, 3, 4]) t.true(fsx.lockRange(fd, slot * SLOT, SLOT, true), `slot ${slot} is free to take`);
});

test.serial('a second locker of a slot a live process holds is refused, and takes it once that process is killed', async t => {
  const file = slotFile(t);
  const first = rangeLocker(t, file, [6]);
  const firstExit = exited(first);
  t.is(await firstLine(first, undefined, 'the first range locker'), 'held');

  const refused = await exited(rangeLocker(t, file, [5, 6]));
  t.is(refused.code, 1);
  t.is(refused.stdout, 'refused 6\n');

  first.kill('SIGKILL');
  t.is((await firstExit).signal, 'SIGKILL');
  const second = rangeLocker(t, file, [5, 6]);
  t.is(await firstLine(second, undefined, 'the second range locker'), 'held');
  t.deepEqual(heldSlots(open(t, file)), [5, 6]);
});

test.serial('unlocking one slot\'s range leaves the neighbouring slots\' locks in place, to the byte (another process)', async t => {
  const file = slotFile(t);
  const child = rangeLocker(t, file, [0, 1, 2]);
  t.is(await firstLine(child, undefined, 'the range locker'), 'held');
  const fd = open(t, file);
  t.deepEqual(heldSlots(fd), [0, 1, 2]);

  const unlocked = firstLine(child, undefined, 'the range locker letting go of slot 1');
  child.stdin!.write('unlock 1\n');
  t.is(await unlocked, 'unlocked 1');
  t.deepEqual(heldSlots(fd), [0, 2]);
  // The edges: the last byte of slot 0 and the first of slot 2 are held, every byte of slot 1 is free.
  t.true(fsx.rangeHeldElsewhere(fd, SLOT - 1, 1));
  for (let at = SLOT; at < 2 * SLOT; at++) t.false(fsx.rangeHeldElsewhere(fd, at, 1), `byte ${at}`);
  t.true(fsx.rangeHeldElsewhere(fd, 2 * SLOT, 1));
  t.true(fsx.rangeHeldElsewhere(fd, 3 * SLOT - 1, 1));
  t.false(fsx.rangeHeldElsewhere(fd, 3 * SLOT, 1));
  t.false(fsx.lockRange(fd, 0, SLOT, true));
  t.true(fsx.lockRange(fd, SLOT, SLOT, true));
  t.false(fsx.lockRange(fd, 2 * SLOT, SLOT, true));
});

test.serial('unlocking the middle slot of one lock over three slots splits it: the slots either side stay locked', t => {
  const file = slotFile(t);
  const a = open(t, file);
  const b = open(t, file);
  t.true(fsx.lockRange(a, 0, 3 * SLOT, true));
  t.deepEqual(heldSlots(b), [0, 1, 2]);
  fsx.unlockRange(a, SLOT, SLOT);
  t.deepEqual(heldSlots(b), [0, 2]);
  t.true(fsx.lockRange(b, SLOT, SLOT, true));
  t.false(fsx.lockRange(b, SLOT - 1, 2, true));
  t.false(fsx.lockRange(b, 2 * SLOT - 1, 2, true));
  fsx.unlockRange(a, 0, SLOT);
  t.deepEqual(heldSlots(b), [2]);
  t.deepEqual(heldSlots(a), [1]);
});

/** Asserts `call` throws an error of `kind` with a one-line message matching `message`; returns it. */
function throwsOneLine(t: ExecutionContext, call: () => unknown, kind: ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor, message: RegExp) {
  const error = t.throws(call, {instanceOf: kind, message});
  t.false(error?.message.includes('\n'), `one line: ${JSON.stringify(error?.message)}`);
  return error as (Error & {errno?: number; syscall?: string}) | undefined;
}

test.serial('bad arguments throw a one-line Error: a negative offset, a length that is not positive, a closed fd, a wrong open mode', t => {
  const file = slotFile(t);
  const fd = open(t, file);
  // The same calls with good arguments work, so what throws below is the argument.
  t.true(fsx.lockRange(fd, 0, SLOT, true));
  t.false(fsx.rangeHeldElsewhere(fd, 0, SLOT));
  fsx.unlockRange(fd, 0, SLOT);

  for (const [name, call] of [
    ['lockRange', () => fsx.lockRange(fd, -SLOT, SLOT, true)],
    ['unlockRange', () => fsx.unlockRange(fd, -1, SLOT)],
    ['rangeHeldElsewhere', () => fsx.rangeHeldElsewhere(fd, -SLOT, SLOT)],
  ] as const) {
    throwsOneLine(t, call, RangeError, new RegExp(`^fsx\\.${name}: needs fd >= 0, offset >= 0 and length > 0`));
  }
  throwsOneLine(t, () => fsx.lockRange(fd, 0, 0, true), RangeError, /^fsx\.lockRange: .*length > 0/);
  throwsOneLine(t, () => fsx.unlockRange(fd, 0, -SLOT), RangeError, /^fsx\.unlockRange: .*length > 0/);
  throwsOneLine(t, () => fsx.lockRange(fd, 0.5, SLOT, true), TypeError, /^fsx\.lockRange: fd, offset and length must be integers$/);
  throwsOneLine(t, () => fsx.rangeHeldElsewhere(String(fd) as unknown as number, 0, SLOT), TypeError, /^fsx\.rangeHeldElsewhere: .*integers$/);

  const closed = fs.openSync(file, 'r+');
  t.true(fsx.lockRange(closed, SLOT, SLOT, true));
  fs.closeSync(closed);
  const {EBADF} = os.constants.errno;
  for (const [syscall, call] of [
    ['fcntl(F_OFD_SETLK)', () => fsx.lockRange(closed, SLOT, SLOT, true)],
    ['fcntl(F_OFD_SETLK)', () => fsx.unlockRange(closed, SLOT, SLOT)],
    ['fcntl(F_OFD_GETLK)', () => fsx.rangeHeldElsewhere(closed, SLOT, SLOT)],
  ] as const) {
    const error = throwsOneLine(t, call, Error, new RegExp(`^${syscall.replace(/[()]/g, '\\$&')}: \\S`));
    t.is(error?.errno, EBADF);
    t.is(error?.syscall, syscall);
  }
  t.false(fsx.rangeHeldElsewhere(fd, SLOT, SLOT), 'closing it dropped its lock');

  // An exclusive lock needs the file open for writing, a shared one for reading.
  const readOnly = open(t, file, 'r');
  t.is(throwsOneLine(t, () => fsx.lockRange(readOnly, 0, SLOT, true), Error, /^fcntl\(F_OFD_SETLK\): /)?.errno, EBADF);
  t.true(fsx.lockRange(readOnly, 0, SLOT, false));
  const writeOnly = open(t, file, 'w');
  t.is(throwsOneLine(t, () => fsx.lockRange(writeOnly, 0, SLOT, false), Error, /^fcntl\(F_OFD_SETLK\): /)?.errno, EBADF);
});
