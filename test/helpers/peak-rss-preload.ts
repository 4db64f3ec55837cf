// Loaded into a CLI child with --import: as the child exits it writes its peak
// resident set (VmHWM, in KiB) to the file the parent named. Not getrusage's
// ru_maxrss: Linux carries that across exec, so it would count the forked copy of
// the parent (the test process) as well.
import fs from 'node:fs';

const file = process.env.MARKLOG_TEST_PEAK_RSS_FILE;
if (file) {
  process.on('exit', () => {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    fs.writeFileSync(file, /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1] ?? 'NaN');
  });
}
