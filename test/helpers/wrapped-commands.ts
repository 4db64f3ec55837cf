// Running programs somewhere else on this machine: under a command prefix that moves
// them into other namespaces (`ip netns exec NS`, `nsenter -t PID -m -n --`). A test
// cannot move itself, so everything it does on the far side of a link is a child
// process: a command run to its end (sync or async), a long-lived one (an agent with
// --listen, a relay), or marklog itself. The long-lived ones are killed at teardown.
import {spawn, spawnSync, type ChildProcessWithoutNullStreams} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import type {ExecutionContext} from 'ava';
import {BIN} from './cli.js';
import {killIfRunning} from './processes.js';

export interface RunResult {
  /** The exit code; -1 when a signal (or the time bound) ended the program. */
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string | Buffer;
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Killed after this long; 60 s by default. */
  timeoutMs?: number;
}

export interface WrappedCommands {
  /** The prefix that runs a program there; append the program and its arguments. */
  wrap: string[];
  run(argv: string[], options?: RunOptions): RunResult;
  runAsync(argv: string[], options?: RunOptions): Promise<RunResult>;
  /** A long-lived program with piped stdio; SIGKILLed at the test's end if still running. */
  spawn(argv: string[], options?: {env?: NodeJS.ProcessEnv}): ChildProcessWithoutNullStreams;
  /** `node bin/run.js …` there, with MARKLOG_LINK_RETRIES=1 as cli() sets it. */
  marklog(args: string[], options?: RunOptions): RunResult;
  /** `marklog … --json` there, parsed; throws with stderr when it fails. */
  marklogJson<T = any>(args: string[], options?: RunOptions): T;
  /** marklog and marklogJson without blocking this process's event loop (its other children and sockets go on). */
  marklogAsync(args: string[], options?: RunOptions): Promise<RunResult>;
  marklogJsonAsync<T = any>(args: string[], options?: RunOptions): Promise<T>;
}

const RUN_BOUND_MS = 60_000;
const MARKLOG_ENV = {MARKLOG_LINK_RETRIES: '1'};

/** The path of one of the helper programs compiled next to this file (dist/test/helpers/NAME.js). */
export function helperPath(name: string): string {
  return fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}

export function commandsUnder(t: ExecutionContext, wrap: string[]): WrappedCommands {
  const full = (argv: string[]) => [...wrap, ...argv];
  const environment = (env?: NodeJS.ProcessEnv) => ({...process.env, ...env});

  const run = (argv: string[], options: RunOptions = {}): RunResult => {
    const [command, ...args] = full(argv);
    const result = spawnSync(command, args, {
      input: options.input ?? '', env: environment(options.env), timeout: options.timeoutMs ?? RUN_BOUND_MS,
      killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024,
    });
    if (result.error && !result.signal) throw result.error;
    return {code: result.status ?? -1, signal: result.signal, stdout: result.stdout.toString(), stderr: result.stderr.toString()};
  };

  const spawnThere = (argv: string[], options: {env?: NodeJS.ProcessEnv} = {}): ChildProcessWithoutNullStreams => {
    const [command, ...args] = full(argv);
    const child = spawn(command, args, {env: environment(options.env), stdio: 'pipe'});
    t.teardown(() => killIfRunning(child));
    return child;
  };

  const runAsync = (argv: string[], options: RunOptions = {}): Promise<RunResult> => {
    const child = spawnThere(argv, options);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', chunk => (stdout += chunk));
    child.stderr.on('data', chunk => (stderr += chunk));
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
    const bound = setTimeout(() => killIfRunning(child), options.timeoutMs ?? RUN_BOUND_MS);
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(bound);
        resolve({code: code ?? -1, signal, stdout, stderr});
      });
    });
  };

  const marklog = (args: string[], options: RunOptions = {}) => run([process.execPath, BIN, ...args], {...options, env: {...MARKLOG_ENV, ...options.env}});

  const marklogJson = <T>(args: string[], options: RunOptions = {}): T => {
    const result = marklog([...args, '--json'], options);
    if (result.code !== 0) throw new Error(`marklog ${args.join(' ')} exited ${result.code} under ${wrap.join(' ')}: ${result.stderr}${result.stdout}`);
    return JSON.parse(result.stdout) as T;
  };

  const marklogAsync = (args: string[], options: RunOptions = {}) => runAsync([process.execPath, BIN, ...args], {...options, env: {...MARKLOG_ENV, ...options.env}});

  const marklogJsonAsync = async <T>(args: string[], options: RunOptions = {}): Promise<T> => {
    const result = await marklogAsync([...args, '--json'], options);
    if (result.code !== 0) throw new Error(`marklog ${args.join(' ')} exited ${result.code} under ${wrap.join(' ')}: ${result.stderr}${result.stdout}`);
    return JSON.parse(result.stdout) as T;
  };

  return {wrap, run, runAsync, spawn: spawnThere, marklog, marklogJson, marklogAsync, marklogJsonAsync};
}
