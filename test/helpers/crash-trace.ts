// Runs the real CLI under strace to list the file-system operations a command makes
// on the site directories, and to SIGKILL it at exactly one of them. The crash
// harness (test/reliability/crash-harness.test.ts) kills a command at each in turn.
//
// What counts as a file-system operation (a "kill point"): a system call of the
// main thread that changes a file or a directory under the scenario's root: write,
// pwrite64, writev, pwritev(2), ftruncate, fallocate and copy_file_range into a file
// there; rename, unlink, mkdir, link and symlink (and their *at forms) of a path
// there; an openat that may create or truncate (O_CREAT or O_TRUNC). Flushes (fsync,
// fdatasync, msync) are listed but are not kill points: a process killed just before
// a flush leaves exactly the files a kill before the next operation leaves, since the
// page cache outlives the process. Pair bitmaps and log header slots change through
// shared mappings, without a system call: a kill at the operations around such a
// store covers the states before and after it. One more kill point follows the last
// operation: at exit_group, the command done but its caller never told.
//
// strace's `inject=CALL:signal=KILL:when=K` delivers the signal on entry, before the
// call runs, and counts per system call and per thread (tracee); with `-P PATH` it
// counts only the calls that name PATH or a descriptor open on it. So a kill point
// is "the K-th CALL of the main thread on PATH": Node's own writes (to eventfds, in a
// number that varies from run to run) never shift it, and marklog's file work is
// synchronous, on the main thread, so it is the same call in every run from the same
// state. Each run gets a PID namespace of its own, so the process id in temporary
// names (`tables.json.tmp-PID`) is the same in every run too. Every kill is traced,
// and the call it stopped at is checked against the one meant. A long-lived command
// (`marklog serve`, crash-serve.ts) is started the same way and talked to while it runs.
import {spawn, type ChildProcess} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {BIN} from './cli.js';
import {exited} from './processes.js';

const FD_CHANGES: Record<string, number> = {write: 0, pwrite64: 0, writev: 0, pwritev: 0, pwritev2: 0, ftruncate: 0, fallocate: 0, copy_file_range: 1};
const PATH_CHANGES = ['rename', 'renameat', 'renameat2', 'unlink', 'unlinkat', 'mkdir', 'mkdirat', 'link', 'linkat', 'symlink', 'symlinkat', 'truncate'];
const OPENS = ['open', 'openat', 'creat'];
const FLUSHES = ['fsync', 'fdatasync', 'msync', 'sync_file_range'];
const TRACED = [...Object.keys(FD_CHANGES), ...PATH_CHANGES, ...OPENS, ...FLUSHES, 'execve'].join(',');

export interface FsOp {
  /** The system call, e.g. "pwrite64". */
  call: string;
  /** The file it changes (the first path under the root it names). */
  path: string;
  /** Its place among the main thread's calls of this name on this path, from 1 (strace's `when=` under `-P`). */
  onPath: number;
  /** The call as strace printed it, the root shown as ROOT. */
  text: string;
  /** False for flushes: listed, never a kill point. */
  changes: boolean;
}

export interface TracedRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The traced operations under the root, in order; with a kill, the last is the one it stopped at. */
  ops: FsOp[];
  /** How many of `ops` came before the command first wrote to its standard output (all of them when it never did). */
  beforeOutput: number;
}

/** Where and how to run a command: its root (the only tree whose operations count) and a scratch directory for traces. */
export interface TraceContext {
  root: string;
  scratch: string;
  input?: Buffer;
}

export type KillPoint = FsOp | 'exit';

/** Runs `marklog ARGS` once under strace and lists its operations under the root. */
export async function traceCommand(context: TraceContext, args: string[]): Promise<TracedRun> {
  const run = await runTraced(context, args, straceFilter());
  if (run.ops.length === 0) throw new Error(`no operation of process ${RUN_PID} was traced: did the command run under another process id? ${run.stderr}`);
  return run;
}

/** Runs `marklog ARGS` again from the same state, killed on entry to `point`. */
export function killCommandAt(context: TraceContext, args: string[], point: KillPoint): Promise<TracedRun> {
  return runTraced(context, args, straceFilter(point));
}

/** Kill points of a listing: the operations that change something, then 'exit'. */
export function killPoints(ops: FsOp[]): KillPoint[] {
  return [...ops.filter(op => op.changes), 'exit'];
}

export function describePoint(point: KillPoint): string {
  return point === 'exit' ? 'exit_group (after its last operation)' : `${point.call} #${point.onPath} on that file: ${point.text}`;
}

/** Whether a killed run stopped where it was meant to. */
export function stoppedAt(run: TracedRun, point: KillPoint): boolean {
  if (run.signal !== 'SIGKILL') return false;
  if (point === 'exit') return true;
  const last = run.ops.at(-1);
  return last !== undefined && last.call === point.call && last.path === point.path && last.onPath === point.onPath;
}

/**
 * The process id every run gets: one no process of this machine has now, so that a
 * killed run's temporaries look abandoned (marklog checks their owner is gone) as
 * they would after a real crash.
 */
export const RUN_PID = (() => {
  const max = Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  for (let pid = max - 1; pid > 1000; pid--) {
    try {
      process.kill(pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return pid;
    }
  }
  throw new Error('no free process id for the traced runs');
})();

/** A PID namespace per run (see the top of this file) whose next process ids start just below RUN_PID. */
function isolated(command: string[]): string[] {
  // Without root, a user namespace gives the right to set the namespace's next process id.
  const user = process.getuid?.() === 0 ? [] : ['--user', '--map-root-user'];
  // strace forks two probes before the command: the command is the third process after the shell's.
  const setPid = `echo ${RUN_PID - 3} > /proc/sys/kernel/ns_last_pid && exec "$@"`;
  return [...user, '--pid', '--fork', '--mount-proc', '--kill-child', 'sh', '-c', setPid, 'sh', ...command];
}

async function runTraced(context: TraceContext, args: string[], filter: string[]): Promise<TracedRun> {
  const traced = spawnTraced(context, args, filter);
  traced.child.stdin!.on('error', () => undefined);
  traced.child.stdin!.end(context.input ?? '');
  return traced.run;
}

/** A command started under strace (as runTraced runs it), for a caller that talks to it while it runs (`marklog serve`). */
export interface TracedProcess {
  /** The unshare process the command runs under; its stdout and stderr are the command's. */
  child: ChildProcess;
  /** How the command ended and what it did, once it has ended. */
  run: Promise<TracedRun>;
}

/** The strace options of a listing (traceCommand) or of a kill at `point` (killCommandAt). */
export function straceFilter(point?: KillPoint): string[] {
  if (point === undefined) return ['-e', `trace=${TRACED}`];
  if (point === 'exit') return ['-e', `trace=${TRACED},exit_group`, '-e', 'inject=exit_group:signal=KILL:when=1'];
  return ['-e', `trace=${point.call}`, '-P', point.path, '-e', `inject=${point.call}:signal=KILL:when=${point.onPath}`];
}

/** Starts `marklog ARGS` under strace in its own PID namespace; `env` adds to the environment. */
export function spawnTraced(context: TraceContext, args: string[], filter: string[], env: NodeJS.ProcessEnv = {}): TracedProcess {
  const dir = fs.mkdtempSync(path.join(context.scratch, 'trace-'));
  const strace = ['strace', '-ff', '-qq', '-y', '-s', '0', '-e', 'signal=none', ...filter, '-o', path.join(dir, 't'), process.execPath, BIN, ...args];
  const child = spawn('unshare', isolated(strace), {env: {...process.env, MARKLOG_LINK_RETRIES: '1', ...env}, stdio: ['pipe', 'pipe', 'pipe']});
  const run = exited(child).then(({code, signal, stdout, stderr}) => {
    // unshare reports a child killed by a signal as 128 + the signal.
    const killed = signal ?? (code === 128 + 9 ? 'SIGKILL' : null);
    return {code: killed ? null : code, signal: killed, stdout, stderr, ...mainThreadOps(dir, context.root)};
  }).finally(() => fs.rmSync(dir, {recursive: true, force: true}));
  return {child, run};
}

/**
 * The traced command's own process, seen from outside its PID namespace (inside,
 * it is RUN_PID): a descendant of `child`. Undefined once it has gone.
 */
export function commandPid(child: ChildProcess): number | undefined {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the command name, which is in parentheses and may hold spaces.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  for (const [pid] of parents) {
    let ancestor = parents.get(pid);
    while (ancestor !== undefined && ancestor !== child.pid) ancestor = parents.get(ancestor);
    if (ancestor === undefined) continue;
    try {
      const nspid = /^NSpid:\s+(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1].trim().split(/\s+/);
      if (nspid && Number(nspid.at(-1)) === RUN_PID && nspid.length > 1) return pid;
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined;
}

/** The operations of the command's main thread (its thread id is its process id). */
function mainThreadOps(dir: string, root: string): {ops: FsOp[]; beforeOutput: number} {
  const file = path.join(dir, `t.${RUN_PID}`);
  if (!fs.existsSync(file)) return {ops: [], beforeOutput: 0};
  return parseOps(fs.readFileSync(file, 'utf8').split('\n'), root);
}

const CALL = /^(\w+)\((.*)$/;
const QUOTED = /"((?:[^"\\]|\\.)*)"/g;
const FD_PATH = /(?:^|, )(\d+)<([^>]*)>/g;

function parseOps(lines: string[], root: string): {ops: FsOp[]; beforeOutput: number} {
  const seen = new Map<string, number>();
  const ops: FsOp[] = [];
  let beforeOutput: number | undefined;
  const inRoot = (file: string) => file === root || file.startsWith(`${root}/`);
  for (const line of lines) {
    const match = CALL.exec(line);
    if (!match) continue;
    const [, call, rest] = match;
    const args = rest.replace(/\) += [^=]*$/, '').replace(/ <unfinished \.\.\.>$/, '').replace(/, ""\.\.\./g, '');
    const fds = [...args.matchAll(FD_PATH)].map(m => m[2]);
    if ((call === 'write' || call === 'writev') && args.startsWith('1<')) beforeOutput ??= ops.length;
    const names = [...args.matchAll(QUOTED)].map(m => m[1]);
    // strace -P matches a call by any path or descriptor it names: count the same way.
    const counts = new Map<string, number>();
    for (const file of new Set([...fds, ...names])) {
      const key = `${call}\0${file}`;
      counts.set(file, (seen.get(key) ?? 0) + 1);
      seen.set(key, counts.get(file)!);
    }
    let target: string | undefined;
    let changes = false;
    if (call in FD_CHANGES || FLUSHES.includes(call)) {
      target = fds[FD_CHANGES[call] ?? 0];
      changes = call in FD_CHANGES;
    } else if (PATH_CHANGES.includes(call) || OPENS.includes(call)) {
      target = names.find(inRoot);
      changes = PATH_CHANGES.includes(call) || /O_CREAT|O_TRUNC/.test(args) || call === 'creat';
    }
    if (target === undefined || !inRoot(target)) continue;
    ops.push({call, path: target, onPath: counts.get(target)!, text: `${call}(${args.replace(/, $/, '')})`.split(root).join('ROOT'), changes});
  }
  return {ops, beforeOutput: beforeOutput ?? ops.length};
}
