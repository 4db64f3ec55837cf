// Runs the real CLI (bin/run.js) in a child process, as an administrator would.
import {spawn, spawnSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';

export const BIN = fileURLToPath(new URL('../../../bin/run.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], options: {input?: string | Buffer; env?: NodeJS.ProcessEnv} = {}): CliResult {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    input: options.input ?? '',
    env: {...process.env, MARKLOG_LINK_RETRIES: '1', ...options.env},
    maxBuffer: 64 * 1024 * 1024,
  });
  return {code: result.status ?? -1, stdout: result.stdout.toString(), stderr: result.stderr.toString()};
}

/** Runs a command with --json and returns the parsed output; throws with stderr if it failed. */
export function cliJson<T = any>(args: string[], options: {input?: string | Buffer; env?: NodeJS.ProcessEnv} = {}): T {
  const result = cli([...args, '--json'], options);
  if (result.code !== 0) throw new Error(`marklog ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
  return JSON.parse(result.stdout) as T;
}

/** Starts the CLI without waiting, for tests that race or kill it. */
export function cliSpawn(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawn(process.execPath, [BIN, ...args], {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']});
}
