// The real CLI run with its peak memory measured by the child itself, as it exits
// (a preload module reads its VmHWM): a poll from outside can miss the peak.
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {pipeline} from 'node:stream/promises';
import {fileURLToPath} from 'node:url';
import {BIN} from './cli.js';

const PRELOAD = fileURLToPath(new URL('./peak-rss-preload.js', import.meta.url));

export interface MeasuredRun {
  code: number | null;
  stderr: string;
  /** Peak resident set of the marklog process, in bytes. */
  peakRss: number;
}

export interface MeasuredOptions {
  /** Chunks fed to standard input (with back-pressure); the pipe is closed at the end. */
  stdin?: AsyncIterable<Buffer> | Iterable<Buffer>;
  /** Called with each chunk the command prints on standard output. */
  stdout?: (chunk: Buffer) => void;
}

export async function measuredCli(args: string[], options: MeasuredOptions = {}): Promise<MeasuredRun> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'marklog-rss-'));
  const report = path.join(scratch, 'peak');
  try {
    const child = spawn(process.execPath, ['--import', PRELOAD, BIN, ...args], {
      env: {...process.env, NODE_ENV: '', MARKLOG_TEST_PEAK_RSS_FILE: report},
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', chunk => {
      stderr += chunk;
    });
    child.stdout!.on('data', (chunk: Buffer) => options.stdout?.(chunk));
    const closed = new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', code => resolve(code));
    });
    // A command that gives up early closes its end; its exit code tells why.
    const fed = options.stdin ? pipeline(options.stdin, child.stdin!).catch(() => {}) : Promise.resolve();
    const [code] = await Promise.all([closed, fed]);
    const peakKiB = fs.existsSync(report) ? Number(fs.readFileSync(report, 'utf8')) : Number.NaN;
    return {code, stderr, peakRss: peakKiB * 1024};
  } finally {
    fs.rmSync(scratch, {recursive: true, force: true});
  }
}
