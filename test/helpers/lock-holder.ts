// Holds a site lock from a process of its own, as another marklog command would:
//   node dist/test/helpers/lock-holder.js <site>/lock [holdMs]
// Prints "held" once the lock is taken; then holds it until killed, or for holdMs
// and lets go (printing "released").
import {FileLock} from '../../src/util/lock.js';

const [file, holdMs] = process.argv.slice(2);
const lock = new FileLock(file);
lock.acquire();
process.stdout.write('held\n');
if (holdMs) {
  setTimeout(() => {
    lock.release();
    process.stdout.write('released\n');
  }, Number(holdMs));
} else {
  setInterval(() => {}, 60_000);
}
