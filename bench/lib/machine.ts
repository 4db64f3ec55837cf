// The machine a run was measured on: printed in the header and stored in the JSON.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {ROOT} from './params.js';

export interface Machine {
  host: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  dir: string;
  fsType: string;
  fsStatType: string;
  device: string;
  mountOptions: string;
  loadAvgStart: number[];
  loadAvgEnd?: number[];
  commit: string;
  started: string;
}

function mountOf(dir: string): {device: string; type: string; options: string} {
  let best = {mount: '', device: '?', type: '?', options: ''};
  try {
    for (const line of fs.readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [device, mount, type, options] = line.split(' ');
      if (!mount) continue;
      const decoded = mount.replace(/\\040/g, ' ');
      const inside = dir === decoded || dir.startsWith(decoded.endsWith('/') ? decoded : `${decoded}/`);
      if (inside && decoded.length >= best.mount.length) best = {mount: decoded, device, type, options};
    }
  } catch {
    // not Linux: leave '?'
  }
  return best;
}

export function describeMachine(dir: string): Machine {
  const real = fs.realpathSync(dir);
  const mount = mountOf(real);
  const stat = spawnSync('stat', ['-f', '-c', '%T', real], {encoding: 'utf8'});
  const git = spawnSync('git', ['-C', ROOT, 'describe', '--always', '--dirty'], {encoding: 'utf8'});
  return {
    host: os.hostname(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? '?',
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3 * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    dir: real,
    fsType: mount.type,
    fsStatType: stat.status === 0 ? stat.stdout.trim() : '?',
    device: mount.device,
    mountOptions: mount.options,
    loadAvgStart: os.loadavg().map(v => Math.round(v * 100) / 100),
    commit: git.status === 0 ? git.stdout.trim() : '?',
    started: new Date().toISOString(),
  };
}

export function headerLines(m: Machine): string[] {
  return [
    `machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB RAM, ${m.kernel}, node ${m.node}`,
    `file system: ${m.fsType} on ${m.device} (stat -f: ${m.fsStatType}; ${m.mountOptions}) at ${m.dir}`,
    `load average at start: ${m.loadAvgStart.join(' ')}${m.loadAvgEnd ? `, at end: ${m.loadAvgEnd.join(' ')}` : ''}`,
    `marklog ${m.commit}, started ${m.started}`,
  ];
}

export function tempRoot(parent: string): string {
  fs.mkdirSync(parent, {recursive: true});
  return fs.mkdtempSync(path.join(parent, 'marklog-bench-'));
}
