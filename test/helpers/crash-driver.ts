// A host that writes and marks through the library until it is killed, printing
// each acknowledgement the moment it has it. Used by the crash tests.
// Usage: crash-driver PRIMARY_DIR MVOL CAPACITY SEED [call|writer]
// `writer` sends the writes through one HostWriter (locks kept between writes),
// `call` (the default) through one hostWrite call each.
import fs from 'node:fs';
import './transports.js';
import {Site} from '../../src/site/site.js';
import {hostWrite} from '../../src/io/host-io.js';
import {HostWriter} from '../../src/io/host-writer.js';
import {issueMark} from '../../src/mark/mark.js';
import {blockFor} from './crash-blocks.js';

const [dir, mvolText, capacityText, seedText, mode = 'call'] = process.argv.slice(2);
const site = Site.open(dir);
const mvol = Number(mvolText);
const capacity = Number(capacityText);
const seed = Number(seedText);
const say = (line: string) => fs.writeSync(1, `${line}\n`);
const writer = mode === 'writer' ? new HostWriter(site) : undefined;
const write = (offset: number, data: Buffer) => writer ? writer.write(mvol, offset, data) : hostWrite(site, mvol, offset, data);

for (let i = 0; ; i++) {
  if (i % 6 === 5) {
    say(`begin mark ${i}`);
    const mark = await issueMark(site, {app: `crash-${seed}`});
    say(`mark ${i} ${mark.markId}`);
    continue;
  }
  const {offset, data} = blockFor(seed, i, capacity);
  say(`begin write ${i} ${offset} ${data.length}`);
  await write(offset, data);
  say(`write ${i} ${offset} ${data.length}`);
}
