// Human views of log groups and marks.
import chalk from 'chalk';
import Table from 'cli-table3';
import {formatBytes} from '../util/units.js';
import {grid} from './grid.js';
import type {LogGroupStatus} from '../log/log-admin.js';
import type {MarkList} from '../mark/mark-list.js';

const yesNo = (value: boolean | null) => (value === null ? '-' : value ? 'yes' : chalk.red('no'));

export function renderLogStatus(status: LogGroupStatus): string {
  const state = status.full ? chalk.red('FULL') : status.alert ? chalk.yellow('ALERT') : chalk.green('ok');
  const lines = [
    `${chalk.bold(`log group ${status.group}`)}  mode ${status.mode}  ${state}  base generation ${status.baseGeneration}${status.applyInterrupted ? chalk.red('  apply interrupted: run log apply again') : ''}`,
    `members: ${status.members.map(m => `R-VOL ${m.rvol} (pair ${m.pair}, M-VOL ${m.mvol})`).join(', ') || 'none'}`,
  ];
  const unfinished = status.takeoverUnfinished;
  if (unfinished) {
    lines.push(chalk.red(`takeover at ${unfinished.markId === null ? 'the end of the log' : `mark ${unfinished.markId}`} (begun ${unfinished.since}) did not finish: run \`marklog takeover --group ${status.group}${unfinished.markId === null ? '' : ` --mark ${unfinished.markId}`}\` again`));
  }
  const table = new Table({head: ['capacity', 'used', 'free', 'free %', 'alert at', 'records', 'log IDs', 'marks'].map(h => chalk.bold(h)), style: {head: [], border: []}});
  const ids = status.logIds.oldestLogId === null ? '-' : `${status.logIds.oldestLogId}..${status.logIds.newestLogId}`;
  const marks = status.markIds.oldestMarkId === null ? '-' : `${status.markIds.oldestMarkId}..${status.markIds.newestMarkId} (${status.markIds.marks})`;
  table.push([formatBytes(status.usage.capacity), formatBytes(status.usage.used), formatBytes(status.usage.free),
    `${(status.usage.freeRatio * 100).toFixed(1)}%`, `${Math.round(status.threshold * 100)}% used`, status.usage.records, ids, marks]);
  lines.push(table.toString());
  lines.push(`log volumes: ${status.logVolumes.map(v => `LDEV ${v.ldev} (${formatBytes(v.used)} used, ${v.records} records)`).join(', ')}`);
  return lines.join('\n');
}

export function renderMarks(list: MarkList): string {
  const table = grid(['mark', 'time', 'application', 'log ID', 'host', 'remote log'].map(h => chalk.bold(h)),
    list.marks.map(m => [m.markId, m.time, m.app, m.logId, yesNo(m.host), yesNo(m.remote)]));
  return `${chalk.bold(`log group ${list.group}`)}\n${list.marks.length ? table : 'no marks'}`;
}
