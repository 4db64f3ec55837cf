// A writer that dies with a write in flight, as far as the site's files can tell: it
// sets an activity-log slot (FORMAT.md §5) and exits without clearing it, so the
// kernel drops the slot's lock and the next process that takes the site lock finds
// it set and unlocked, which is what SIGKILL leaves. Prints "left" first.
// Usage: node left-in-flight.js SITE LDEV OFFSET LENGTH
import './transports.js';
import {beginWrite} from '../../src/io/inflight.js';
import {Site} from '../../src/site/site.js';

const [dir, ldev, offset, length] = process.argv.slice(2);
beginWrite(Site.open(dir), {ldev: Number(ldev), offset: Number(offset), length: Number(length)});
process.stdout.write('left\n');
process.exit(0);
