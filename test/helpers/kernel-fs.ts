// A kernel file system on an NBD export, on a machine without /dev/nbd: nbdfuse makes
// the export a FUSE file, a loop device makes that file a block device, ext4 goes on
// top. Each piece is undone at teardown even when the test fails (lazy unmounts, loop
// devices detached, the FUSE mount lifted), last made, first undone.
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type {ExecutionContext} from 'ava';
import {exited, type Exit} from './processes.js';
import {run} from './serve.js';
import {waitFor} from './wait.js';

/** Runs a command for teardown: a failure is not the test's, so it is ignored. */
function quietly(command: string, args: string[]): void {
  spawnSync(command, args, {stdio: 'ignore'});
}

export interface FuseFile {
  /** The regular file whose bytes are the export's. */
  file: string;
  /** Lifts the FUSE mount; nbdfuse then exits by itself. */
  unmount(): Promise<Exit>;
}

/** `nbdfuse DIR URL`: the export as DIR/nbd, once nbdfuse has written its PID file. */
export async function fuseFile(t: ExecutionContext, dir: string, url: string): Promise<FuseFile> {
  fs.mkdirSync(dir, {recursive: true});
  const pidFile = `${dir}.pid`;
  const child = spawn('nbdfuse', ['-P', pidFile, dir, url], {stdio: ['ignore', 'pipe', 'pipe']});
  const done = exited(child);
  t.teardown(async () => {
    quietly('fusermount3', ['-u', '-z', dir]);
    if (child.exitCode === null && child.signalCode === null) {
      const ended = await Promise.race([done, new Promise(resolve => setTimeout(resolve, 2000, 'late').unref())]);
      if (ended === 'late') child.kill('SIGKILL');
    }
  });
  await waitFor(() => (fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() !== '') || child.exitCode !== null, {what: 'nbdfuse to be ready'});
  if (child.exitCode !== null) throw new Error(`nbdfuse ended: ${(await done).stderr}`);
  return {
    file: path.join(dir, 'nbd'),
    async unmount() {
      // The loop device just detached may still hold the file for a moment.
      await waitFor(() => spawnSync('fusermount3', ['-u', dir]).status === 0, {what: `fusermount3 -u ${dir} to succeed`, everyMs: 50});
      return done;
    },
  };
}

export interface LoopDevice {
  device: string;
  detach(): void;
}

/** `losetup -f --show FILE` (read-only with `readOnly`). */
export function loopDevice(t: ExecutionContext, file: string, options: {readOnly?: boolean} = {}): LoopDevice {
  const device = run('losetup', [...(options.readOnly ? ['-r'] : []), '-f', '--show', file]).trim();
  let attached = true;
  t.teardown(() => {
    if (attached) quietly('losetup', ['-d', device]);
  });
  return {
    device,
    detach() {
      run('losetup', ['-d', device]);
      attached = false;
    },
  };
}

export interface Mount {
  dir: string;
  unmount(): void;
}

/** `mount [-o OPTIONS] DEVICE DIR`; thawed and lazily unmounted at teardown if the test did not unmount it. */
export function mounted(t: ExecutionContext, device: string, dir: string, options = 'rw'): Mount {
  fs.mkdirSync(dir, {recursive: true});
  run('mount', ['-o', options, device, dir]);
  let mountedNow = true;
  t.teardown(() => {
    if (!mountedNow) return;
    quietly('fsfreeze', ['-u', dir]);
    quietly('umount', ['-l', dir]);
  });
  return {
    dir,
    unmount() {
      run('umount', [dir]);
      mountedNow = false;
    },
  };
}

/** An image file's ext4, mounted read-only on its own read-only loop device; `detach` undoes both. */
export function mountedReadOnly(t: ExecutionContext, image: string, dir: string): {dir: string; detach(): void} {
  const loop = loopDevice(t, image, {readOnly: true});
  const mount = mounted(t, loop.device, dir, 'ro');
  return {
    dir,
    detach() {
      mount.unmount();
      loop.detach();
    },
  };
}

/** `e2fsck -fn`: its exit code and what it printed (0 and no question asked = clean). */
export function fsck(image: string): {code: number; output: string} {
  const result = spawnSync('e2fsck', ['-fn', image], {encoding: 'utf8'});
  return {code: result.status ?? -1, output: `${result.stdout}${result.stderr}`};
}

/** Every regular file under a directory, by relative path, with its bytes (lost+found left out). */
export function filesUnder(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (at: string) => {
    for (const entry of fs.readdirSync(at, {withFileTypes: true}).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory() && !(at === dir && entry.name === 'lost+found')) walk(full);
      else if (entry.isFile()) out.set(path.relative(dir, full), fs.readFileSync(full));
    }
  };
  walk(dir);
  return out;
}
