// Human view of a verify.
import chalk from 'chalk';
import type {VerifyResult} from '../verify/verify.js';
import {oneLine} from './one-line.js';

export function renderFindings(result: VerifyResult): string {
  const c = result.checked;
  const scope = `${c.volumes} volumes, ${c.pairs} pairs, ${c.groups.length} log groups (${c.groups.reduce((n, g) => n + g.records, 0)} records)`;
  if (result.findings.length === 0) return `${chalk.green('clean')}: ${scope} checked`;
  const lines = result.findings.map(f =>
    `${f.severity === 'error' ? chalk.red('error') : chalk.yellow('warning')} [${f.check}] ${oneLine(f.where)}: ${oneLine(f.message)}\n    → ${oneLine(f.action)}`);
  return [...lines, `${result.findings.length} finding(s); ${scope} checked`].join('\n');
}
