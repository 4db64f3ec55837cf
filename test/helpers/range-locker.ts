// Holds byte-range locks on 32-byte slots of a file from a process of its own, as a
// writer holds the slot of the write it records:
//   node dist/test/helpers/range-locker.js <file> <slot>...
// Opens the file read-write, takes an exclusive open-file-description lock on each
// slot's bytes [slot*32, slot*32+32) and prints "held" (or "refused <slot>" and exits
// 1 when one is taken elsewhere). Then, for each line "unlock <slot>" on stdin, lets
// go of that slot and prints "unlocked <slot>". Holds the rest until killed.
import fs from 'node:fs';
import readline from 'node:readline';
import {fsx} from '../../src/native/fsx.js';

const SLOT = 32;
const [file, ...slots] = process.argv.slice(2);
const fd = fs.openSync(file, 'r+');
for (const slot of slots.map(Number)) {
  if (!fsx.lockRange(fd, slot * SLOT, SLOT, true)) {
    process.stdout.write(`refused ${slot}\n`);
    process.exit(1);
  }
}
process.stdout.write('held\n');

readline.createInterface({input: process.stdin}).on('line', line => {
  const [command, slot] = line.trim().split(/\s+/);
  if (command !== 'unlock') return;
  fsx.unlockRange(fd, Number(slot) * SLOT, SLOT);
  process.stdout.write(`unlocked ${slot}\n`);
});
setInterval(() => {}, 60_000);
