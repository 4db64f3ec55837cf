// `marklog mark` without oclif. Cron and application hooks run it every few
// minutes, and loading oclif costs more than the mark itself; so bin/run.js sends
// a plain `mark` invocation here. Anything this parser does not recognise (help,
// `mark list`, a malformed flag) returns false and goes to the oclif command in
// commands/mark/index.ts, which owns the full flag handling and its messages.
import os from 'node:os';
import {Site} from '../site/site.js';
import {issueMark} from '../mark/mark.js';
import {reportError} from './error-report.js';
import {oneLine} from './one-line.js';
import {formatJson} from './json-output.js';

interface MarkArgs {
  site?: string;
  group?: number;
  app?: string;
  json: boolean;
}

function parse(argv: string[]): MarkArgs | undefined {
  const out: MarkArgs = {json: false, site: process.env.MARKLOG_SITE || undefined};
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].startsWith('--') && argv[i].includes('=') ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)] : [argv[i], undefined];
    if (name === '--json' && inline === undefined) {
      out.json = true;
      continue;
    }
    if (!['--site', '-s', '--group', '--app'].includes(name)) return undefined;
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('-'))) return undefined;
    if (name === '--group') {
      if (!/^\d+$/.test(value) || Number(value) < 1) return undefined;
      out.group = Number(value);
    } else if (name === '--app') out.app = value;
    else out.site = value;
  }
  return out.site === undefined ? undefined : out;
}

/** Runs `mark` if it can; false means the caller should hand the arguments to oclif. */
export function tryFastMark(argv: string[]): boolean {
  const args = parse(argv);
  if (!args) return false;
  process.on('SIGXFSZ', () => {});
  try {
    const result = issueMark(Site.open(args.site!), {group: args.group, app: args.app ?? os.userInfo().username});
    if (args.json) {
      process.stdout.write(`${formatJson(result)}\n`);
    } else {
      for (const warning of result.warnings) process.stderr.write(`marklog: warning: ${oneLine(warning)}\n`);
      process.stdout.write(`${result.markId}\n`);
    }
  } catch (error) {
    reportError(error, args.json);
  }
  return true;
}
