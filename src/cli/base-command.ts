// The one place where errors become exit codes and a one-line message (or JSON).
import {Command, Errors, Flags} from '@oclif/core';

import {describeError, reportError} from './error-report.js';
import {oneLine} from './one-line.js';
import {formatJson} from './json-output.js';

// With a file size limit (ulimit -f), growing a file past it must be an EFBIG error
// marklog reports, not a SIGXFSZ that kills the command half-way.
process.on('SIGXFSZ', () => {});

export const siteFlag = Flags.string({
  char: 's',
  summary: 'Site directory (or set MARKLOG_SITE).',
  env: 'MARKLOG_SITE',
  required: true,
});

export abstract class MarklogCommand extends Command {
  static override enableJsonFlag = true;

  protected override async catch(error: Error & {exitCode?: number}): Promise<void> {
    if (error instanceof Errors.ExitError) throw error;
    // A parse failure is reported here; oclif need not warn that the arguments went unparsed.
    this.parsed = true;
    if (this.jsonEnabled()) {
      const report = describeError(error);
      process.exitCode = report.exitCode;
      this.logJson({error: {code: report.code, message: report.message, ...(report.hint ? {hint: report.hint} : {})}});
      return;
    }
    reportError(error, false);
  }

  /** Indented on a terminal, one line otherwise (JSON Lines when appended to a file). */
  override logJson(json: unknown): void {
    process.stdout.write(`${formatJson(json)}\n`);
  }

  /** Prints warnings on stderr in human mode; under --json they travel in the result. */
  protected warnAll(warnings: string[]): void {
    if (this.jsonEnabled()) return;
    for (const warning of warnings) process.stderr.write(`marklog: warning: ${oneLine(warning)}\n`);
  }
}
