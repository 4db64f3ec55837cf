// Errors become an exit code and one line (or a JSON document) here, and only
// here. It imports nothing from oclif, so the fast path of `mark` can use it.
import {MarklogError, EXIT_CODES} from '../errors.js';
import {oneLine} from './one-line.js';
import {formatJson} from './json-output.js';

export interface ErrorReport {
  code: string;
  message: string;
  hint?: string;
  exitCode: number;
}

/** oclif's parse errors carry an `oclif` property; recognised without loading oclif. */
function isOclifError(error: unknown): error is Error & {oclif: unknown} {
  return error instanceof Error && 'oclif' in error;
}

export function describeError(error: unknown): ErrorReport {
  if (error instanceof MarklogError) {
    return {code: error.code, message: error.message, hint: error.hint, exitCode: error.exitCode};
  }
  if (isOclifError(error)) {
    // Flag and argument parsing failures; oclif spreads one cause over several lines.
    const lines = error.message.split('\n').map(line => line.trim())
      .filter(line => line && !line.startsWith('See more help') && line !== 'The following error occurred:');
    return {code: 'USAGE', message: lines.join(': ') || error.message, hint: 'see --help', exitCode: EXIT_CODES.usage};
  }
  const nodeError = error as NodeJS.ErrnoException;
  if (nodeError?.code && typeof nodeError.code === 'string' && nodeError.syscall) {
    return {code: 'IO_ERROR', message: nodeError.message, exitCode: EXIT_CODES.io};
  }
  return {code: 'INTERNAL', message: (error as Error)?.stack ?? String(error), exitCode: EXIT_CODES.internal};
}

/** Sets the exit code and prints the error: one line on stderr, or `{error}` on stdout under --json. */
export function reportError(error: unknown, json: boolean): void {
  const report = describeError(error);
  process.exitCode = report.exitCode;
  if (json) {
    process.stdout.write(`${formatJson({error: {code: report.code, message: report.message, ...(report.hint ? {hint: report.hint} : {})}})}\n`);
    return;
  }
  process.stderr.write(`marklog: ${humanLine(error, report)}\n`);
}

/**
 * The cause (and hint) as one line. A bug's report keeps its stack trace on the
 * lines after it, as ERRORS.md promises; only the cause line is escaped.
 */
function humanLine(error: unknown, report: ErrorReport): string {
  const hint = report.hint ? ` (${oneLine(report.hint)})` : '';
  if (report.code === 'INTERNAL' && error instanceof Error && error.stack?.startsWith(String(error))) {
    return `${oneLine(String(error))}${error.stack.slice(String(error).length)}`;
  }
  return `${oneLine(report.message)}${hint}`;
}
