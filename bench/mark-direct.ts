// Row 9's reference: what `marklog mark` costs without the CLI framework — the
// library modules a mark needs, imported directly, then one issueMark.
// Run as: node dist/bench/mark-direct.js SITE_DIR
import '../src/transport/transports.js';
import {Site} from '../src/site/site.js';
import {issueMark} from '../src/mark/mark.js';

process.stdout.write(`${(await issueMark(Site.open(process.argv[2]), {app: 'bench'})).markId}\n`);
