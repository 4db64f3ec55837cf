// A host that writes, marks and reads status for a while, printing each
// acknowledgement. Several run at once in the concurrency test. It runs for
// MILLISECONDS and for at least MIN_OPS operations (default 16, so 4 marks), so a
// slow machine makes it run longer, not do less.
// Usage: busy-host PRIMARY_DIR REMOTE_DIR MVOL CAPACITY SEED MILLISECONDS [MIN_OPS]
import fs from 'node:fs';
import './transports.js';
import {Site} from '../../src/site/site.js';
import {hostWrite} from '../../src/io/host-io.js';
import {issueMark} from '../../src/mark/mark.js';
import {logStatus} from '../../src/log/log-admin.js';
import {blockFor} from './crash-blocks.js';

const [primaryDir, remoteDir, mvolText, capacityText, seedText, msText, minOpsText] = process.argv.slice(2);
const minOps = Number(minOpsText ?? '16');
const primary = Site.open(primaryDir);
const remote = Site.open(remoteDir);
const seed = Number(seedText);
const until = Date.now() + Number(msText);
const say = (line: string) => fs.writeSync(1, `${line}\n`);

for (let i = 0; Date.now() < until || i < minOps; i++) {
  if (i % 4 === 3) {
    const mark = await issueMark(primary, {app: `host-${seed}`});
    say(`mark ${mark.markId} ${mark.logId}`);
  } else if (i % 4 === 2) {
    logStatus(remote, 1);
    say('status');
  } else {
    const {offset, data} = blockFor(seed, i, Number(capacityText));
    const result = await hostWrite(primary, Number(mvolText), offset, data);
    say(`write ${result.logged[0].logId}`);
  }
}
