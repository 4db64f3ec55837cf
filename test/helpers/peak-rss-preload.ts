// Loaded into a CLI child with --import: as the child exits it writes its peak
// resident set (getrusage ru_maxrss, in KiB) to the file the parent named.
import fs from 'node:fs';

const file = process.env.MARKLOG_TEST_PEAK_RSS_FILE;
if (file) process.on('exit', () => fs.writeFileSync(file, String(process.resourceUsage().maxRSS)));
