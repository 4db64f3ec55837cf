// Heartbeat watcher output, and turning its flags into a loss action.
import chalk from 'chalk';
import {InvalidArgumentError} from '../errors.js';
import {parseTakeoverMark} from '../takeover/takeover.js';
import type {LossAction, WatchLine} from '../takeover/heartbeat-run.js';

const COLOUR: Record<string, (text: string) => string> = {
  OK: chalk.green, RECOVERED: chalk.green, MAIN_MISSED: chalk.yellow, TRYING_ALTERNATE: chalk.yellow,
  ALTERNATE_OK: chalk.yellow, LOST: chalk.red, ACTION: chalk.magenta,
};

export function renderWatchLine(line: WatchLine, json: boolean): string {
  if (json) return JSON.stringify(line);
  return `${line.time} ${(COLOUR[line.state] ?? (s => s))(line.state.padEnd(16))} ${line.message}`;
}

export interface WatchActionFlags {
  'on-loss'?: string;
  'takeover-on-loss': boolean;
  site?: string;
  group?: number;
  mark: string;
}

export function lossAction(flags: WatchActionFlags, interactive: boolean): LossAction {
  if (flags['on-loss']) return {kind: 'command', command: flags['on-loss']};
  const target = flags.site && flags.group !== undefined ? {site: flags.site, takeover: {group: flags.group, mark: parseTakeoverMark(flags.mark)}} : undefined;
  if (flags['takeover-on-loss']) {
    if (!target) throw new InvalidArgumentError('--takeover-on-loss needs --site (the remote site) and --group');
    return {kind: 'takeover', ...target};
  }
  if (interactive && target) return {kind: 'ask', ...target};
  return {kind: 'report'};
}
