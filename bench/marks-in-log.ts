// Row 12's reference: the marks of a group read from the remote log by the library,
// and nothing else (no CLI, no host registry, no output but their number).
// Run as: node dist/bench/marks-in-log.js REMOTE_DIR GROUP
import {Site} from '../src/site/site.js';
import {marksInLog} from '../src/mark/remote-marks.js';

process.stdout.write(`${marksInLog(Site.open(process.argv[2]), Number(process.argv[3])).length}\n`);
