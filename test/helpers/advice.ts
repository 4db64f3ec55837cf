// `marklog verify` as a nightly check: its report, and the commands a finding's
// `action` advises, run as an operator would paste them.
import type {ExecutionContext} from 'ava';
import {cli} from './cli.js';

export interface Finding {
  severity: 'error' | 'warning';
  check: string;
  where: string;
  message: string;
  action: string;
}

export interface VerifyReport {
  exitCode: number;
  clean: boolean;
  findings: Finding[];
}

export function verifyAt(site: string): VerifyReport {
  const result = cli(['verify', '--site', site, '--json']);
  const report = JSON.parse(result.stdout) as {clean: boolean; findings: Finding[]};
  return {exitCode: result.code, clean: report.clean, findings: report.findings};
}

/** The one finding of that check; fails the test when there is none or several. */
export function findingOf(t: ExecutionContext, report: VerifyReport, check: string): Finding {
  const found = report.findings.filter(f => f.check === check);
  t.is(found.length, 1, `one ${check} finding in ${JSON.stringify(report.findings)}`);
  return found[0] ?? {severity: 'error', check, where: '', message: '', action: ''};
}

/** Every `marklog …` command quoted in backticks in an action, in order. */
export function advisedCommands(action: string): string[][] {
  return [...action.matchAll(/`marklog ([^`]+)`/g)].map(match => match[1].trim().split(/\s+/));
}

/** Runs the advised commands one after another; each must succeed. */
export function followAdvice(t: ExecutionContext, action: string): void {
  const commands = advisedCommands(action);
  t.true(commands.length > 0, `the action names a command: ${action}`);
  for (const args of commands) {
    const result = cli(args);
    t.is(result.code, 0, `marklog ${args.join(' ')}: ${result.stderr}`);
  }
}
