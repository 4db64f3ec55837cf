// The one place where errors become exit codes and a one-line message (or JSON).
import {Command, Errors, Flags} from '@oclif/core';
import {MarklogError, EXIT_CODES} from '../errors.js';

// With a file size limit (ulimit -f), growing a file past it must be an EFBIG error
// marklog reports, not a SIGXFSZ that kills the command half-way.
process.on('SIGXFSZ', () => {});

export const siteFlag = Flags.string({
  char: 's',
  summary: 'Site directory (or set MARKLOG_SITE).',
  env: 'MARKLOG_SITE',
  required: true,
});

export interface ErrorReport {
  code: string;
  message: string;
  hint?: string;
  exitCode: number;
}

export function describeError(error: unknown): ErrorReport {
  if (error instanceof MarklogError) {
    return {code: error.code, message: error.message, hint: error.hint, exitCode: error.exitCode};
  }
  if (error instanceof Errors.CLIError) {
    // Flag and argument parsing failures from oclif.
    // oclif spreads one cause over several lines; keep the informative ones on one.
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

export abstract class MarklogCommand extends Command {
  static override enableJsonFlag = true;

  protected override async catch(error: Error & {exitCode?: number}): Promise<void> {
    if (error instanceof Errors.ExitError) throw error;
    // A parse failure is reported here; oclif need not warn that the arguments went unparsed.
    this.parsed = true;
    const report = describeError(error);
    process.exitCode = report.exitCode;
    if (this.jsonEnabled()) {
      this.logJson({error: {code: report.code, message: report.message, ...(report.hint ? {hint: report.hint} : {})}});
      return;
    }
    const hint = report.hint ? ` (${report.hint})` : '';
    process.stderr.write(`marklog: ${report.message}${hint}\n`);
  }

  /** Prints warnings on stderr in human mode; under --json they travel in the result. */
  protected warnAll(warnings: string[]): void {
    if (this.jsonEnabled()) return;
    for (const warning of warnings) process.stderr.write(`marklog: warning: ${warning}\n`);
  }
}
