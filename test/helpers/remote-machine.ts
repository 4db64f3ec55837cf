// Two "machines" on one machine, for the tests of a remote site on another host
// (issue 15, item 6): the remote is a network namespace plus a private mount namespace
// in which a tmpfs is mounted on a directory that stays empty when seen from the
// tests' own namespace, so whatever the remote's site holds exists only there. One
// long-lived process (`sleep infinity`, started through `ip netns exec NS unshare
// --mount`) holds both namespaces; every command of the machine joins them with
// `nsenter -t PID -m -n`. The primary is a second network namespace joined to the
// remote's by a veth pair (netns.ts's network); it keeps the ordinary file system.
// Teardown kills every process in either namespace, so the mount namespace and its
// tmpfs go with the holder and netns.ts can delete the namespaces; what a run ended
// before its teardowns left is swept by the next one.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type {ExecutionContext} from 'ava';
import {network, type Network} from './netns.js';
import {firstLine} from './processes.js';
import {tempDir} from './sites.js';
import {waitFor} from './wait.js';
import {commandsUnder, type WrappedCommands} from './wrapped-commands.js';

/** One end of the link: its namespace, its address and device on the link, and commands run there. */
export interface LinkEnd extends WrappedCommands {
  ns: string;
  address: string;
  /** Its end of the veth pair, inside its namespace. */
  device: string;
}

export interface RemoteMachine extends LinkEnd {
  /** Mounted inside the machine (a tmpfs); seen from the tests' namespace (or the primary's), an empty directory. */
  dir: string;
  /** The process holding the machine's namespaces. */
  pid: number;
  /** The primary's side of the link: its own network namespace, the ordinary file system. */
  primary: LinkEnd;
}

export interface RemoteMachineOptions {
  /** A network from netns.ts to take the two ends from (the remote is its server); by default one of its own with one link. */
  network?: Network;
  /** Which link of that network the primary sits on (1-based, as netns.ts numbers its clients). */
  link?: number;
  /** The tmpfs's size (mount's `size=`). */
  size?: string;
}

/** Every machine made in this process, for leftovers(). */
const made: {names: string[]; inodes: number[]}[] = [];

function deviceWith(ns: string, address: string): string {
  const shown = spawnSync('ip', ['-n', ns, '-o', '-4', 'addr', 'show', 'to', address], {encoding: 'utf8'});
  const device = shown.stdout.trim().split(/\s+/)[1];
  if (shown.status !== 0 || !device) throw new Error(`no device with ${address} in ${ns}: ${shown.stderr}`);
  return device;
}

function pidsIn(ns: string): number[] {
  const listed = spawnSync('ip', ['netns', 'pids', ns], {encoding: 'utf8'});
  return listed.stdout.split('\n').filter(Boolean).map(Number);
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

/** SIGKILLs every process in the namespaces until none is left (a dying shell may have started one more). */
async function emptyNamespaces(names: string[]): Promise<void> {
  await waitFor(() => {
    const left = names.flatMap(pidsIn);
    left.forEach(kill);
    return left.length === 0;
  }, {what: `the processes in ${names.join(', ')} to end`, timeoutMs: 10_000, everyMs: 20});
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let swept = false;

/**
 * Once a process: the namespaces netns.ts named after a test process that is gone
 * (`mlt<pid>n…`; ava ends a worker at its timeout without running teardowns), their
 * processes killed and the names deleted, so one hung run does not leave them for good.
 */
function sweepAbandoned(): void {
  if (swept) return;
  swept = true;
  for (const line of spawnSync('ip', ['netns', 'list'], {encoding: 'utf8'}).stdout.split('\n')) {
    const ns = line.split(' ')[0];
    const owner = Number(/^mlt(\d+)n\d+/.exec(ns)?.[1]);
    if (!owner || owner === process.pid || alive(owner)) continue;
    pidsIn(ns).forEach(kill);
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

function netnsInode(ns: string): number {
  return fs.statSync(path.join('/run/netns', ns)).ino;
}

/** A remote machine with a hidden directory, and a primary that reaches it over a veth pair. */
export async function remoteMachine(t: ExecutionContext, options: RemoteMachineOptions = {}): Promise<RemoteMachine> {
  sweepAbandoned();
  const net = options.network ?? network(t, 1);
  const link = net.clients[(options.link ?? 1) - 1];
  if (!link) throw new Error(`the network has no link ${options.link}`);
  const names = [net.server.ns, link.ns];
  made.push({names, inodes: names.map(netnsInode)});

  const dir = path.join(tempDir(t), 'remote-machine');
  fs.mkdirSync(dir);
  // Registered after netns.ts's teardown, so it runs before the namespaces are deleted (ava runs teardowns last first).
  t.teardown(() => emptyNamespaces(names));
  const holder = commandsUnder(t, net.server.wrap).spawn(['unshare', '--mount', '--propagation', 'private', 'sh', '-c',
    `mount -t tmpfs -o size=${options.size ?? '256m'},mode=0755 marklog-remote-machine "$0" && cd "$0" && echo mounted && exec sleep infinity`, dir]);
  const said = await firstLine(holder, 20_000, 'the remote machine to mount its directory');
  if (said !== 'mounted') throw new Error(`the remote machine said ${JSON.stringify(said)}`);
  const pid = holder.pid!;
  if (fs.readlinkSync(`/proc/${pid}/ns/mnt`) === fs.readlinkSync('/proc/self/ns/mnt')) throw new Error('the remote machine shares the tests\' mount namespace');

  // `--wd` alone: the holder's working directory, the tmpfs. `--wd=DIR` would open DIR here, before entering, and so the directory under the mount.
  const remote = commandsUnder(t, ['nsenter', '-t', String(pid), '-m', '-n', '--wd', '--']);
  const primary = commandsUnder(t, link.wrap);
  return {
    ...remote, ns: net.server.ns, address: link.serverAddress, device: deviceWith(net.server.ns, link.serverAddress), dir, pid,
    primary: {...primary, ns: link.ns, address: link.address, device: deviceWith(link.ns, link.address)},
  };
}

/**
 * What the machines made in this process left behind, as sentences (none once every
 * test's teardown ran): a namespace still named, or a process still in one of the
 * machines' network namespaces (which would keep it, its veth and its tmpfs alive).
 */
export function leftovers(): string[] {
  const named = new Set(spawnSync('ip', ['netns', 'list'], {encoding: 'utf8'}).stdout.split('\n').map(line => line.split(' ')[0]));
  // The kernel reuses a freed namespace's inode: one another test file named since is not ours.
  const namedNow = new Set(fs.existsSync('/run/netns') ? fs.readdirSync('/run/netns').map(ns => {
    try {
      return `net:[${netnsInode(ns)}]`;
    } catch {
      return '';
    }
  }) : []);
  const inodes = new Set(made.flatMap(machine => machine.inodes.map(inode => `net:[${inode}]`)).filter(link => !namedNow.has(link)));
  const found = made.flatMap(machine => machine.names).filter(ns => named.has(ns)).map(ns => `namespace ${ns} still exists`);
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let link = '';
    try {
      link = fs.readlinkSync(`/proc/${entry}/ns/net`);
    } catch {
      continue;
    }
    if (inodes.has(link)) found.push(`process ${entry} is still in ${link}`);
  }
  return found;
}
