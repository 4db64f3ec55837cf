// Row 10's child: one restore to a new file in a fresh process, reporting its own
// peak RSS. Run as: node dist/bench/rss-child.js '<json>'  ({idle: true} only loads the modules).
import fs from 'node:fs';
import '../src/transport/transports.js';
import {restoreToMark} from '../src/restore/restore.js';
import {Site} from '../src/site/site.js';

interface Job {
  idle?: boolean;
  remoteDir: string;
  group: number;
  markId: number;
  target: string;
}

function status(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of fs.readFileSync('/proc/self/status', 'utf8').split('\n')) {
    const match = /^(VmHWM|VmRSS|RssAnon|RssFile|RssShmem):\s+(\d+) kB/.exec(line);
    if (match) out[match[1]] = Number(match[2]);
  }
  return out;
}

const job = JSON.parse(process.argv[2]) as Job;
const start = process.hrtime.bigint();
if (!job.idle) {
  const site = Site.open(job.remoteDir);
  await restoreToMark(site, {group: job.group, markId: job.markId, target: {kind: 'file', path: job.target}});
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const memory = process.memoryUsage();
process.stdout.write(`${JSON.stringify({
  maxRssKiB: process.resourceUsage().maxRSS,
  seconds,
  statusKiB: status(),
  heapUsed: memory.heapUsed,
  external: memory.external,
  arrayBuffers: memory.arrayBuffers,
})}\n`);
