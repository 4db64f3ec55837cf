// A host writing to an M-VOL without pause, from a process of its own, the way a
// busy application does while an administrator runs `verify --deep`:
//   node dist/test/helpers/pair-writer.js PRIMARY_DIR MVOL REGION_BYTES
// Each write is one hostWrite (the site lock taken and released around it) of 4 KiB
// of fresh bytes at a random 4 KiB-aligned offset below REGION_BYTES, back to back;
// between two writes it lets a process waiting for the site lock go first, as the
// pair copier does, so an admin command is not starved. Prints "writing" after the
// first write, then writes until it is killed.
import crypto from 'node:crypto';
import './transports.js';
import {hostWrite} from '../../src/io/host-io.js';
import {Site} from '../../src/site/site.js';

const [dir, mvolText, regionText] = process.argv.slice(2);
const site = Site.open(dir);
const mvol = Number(mvolText);
const blocks = Math.floor(Number(regionText) / 4096);
const data = Buffer.alloc(4096);
for (let i = 0; ; i++) {
  crypto.randomFillSync(data);
  await hostWrite(site, mvol, crypto.randomInt(blocks) * 4096, data);
  if (i === 0) process.stdout.write('writing\n');
  site.lock.yieldToWaiters(50);
}
