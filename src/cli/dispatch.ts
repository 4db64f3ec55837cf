// The start-up path of every command: parse with quick-parse, run, render, without
// oclif. Loading oclif costs about as much as starting node (docs/PERFORMANCE.md,
// the start-up row), and cron runs `mark` every few minutes; so oclif is loaded only
// when this answers false: help, or input that quick-parse leaves to oclif's messages.
import type {AnyCommandSpec, CommandOutput} from './command-spec.js';
// Every command's start-up bundle runs through here: the link transports are plugged in once, for all.
import '../transport/transports.js';
import {reportError} from './error-report.js';
import {formatJson} from './json-output.js';
import {oneLine} from './one-line.js';
import {quickParse} from './quick-parse.js';

export type CommandTable = Readonly<Record<string, () => Promise<{default: AnyCommandSpec}>>>;

// With a file size limit (ulimit -f), growing a file past it must be an EFBIG error
// marklog reports, not a SIGXFSZ that kills the command half-way.
process.on('SIGXFSZ', () => {});

export function commandOutput(json: boolean): CommandOutput {
  return {
    json,
    log: text => {
      if (!json) process.stdout.write(`${text}\n`);
    },
    warnAll: warnings => {
      if (json) return;
      for (const warning of warnings) process.stderr.write(`marklog: warning: ${oneLine(warning)}\n`);
    },
  };
}

/** Runs a spec on parsed input as oclif would: the result printed under --json, errors reported once. */
export async function runSpec(spec: AnyCommandSpec, input: {flags: Record<string, unknown>; args: Record<string, string>}, json: boolean): Promise<void> {
  try {
    const result = await spec.run(input, commandOutput(json));
    if (json) process.stdout.write(`${formatJson(result)}\n`);
  } catch (error) {
    reportError(error, json);
  }
}

/**
 * Runs one command's words after its id, if quick-parse is sure of them; false
 * hands the whole command line to oclif. Each command's start-up bundle
 * (scripts/bundle.mjs) calls this with its own spec.
 */
export async function runCommandLine(spec: AnyCommandSpec, rest: readonly string[]): Promise<boolean> {
  const parsed = quickParse(spec, rest);
  if (!parsed) return false;
  await runSpec(spec, parsed, parsed.json);
  return true;
}
