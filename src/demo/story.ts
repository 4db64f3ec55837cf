// The human view of `marklog demo`: each event of the story as a few lines of text,
// tables drawn by the same render functions the other commands use.
import chalk from 'chalk';
import {renderPairs, renderSite, renderVolumes} from '../cli/render.js';
import {renderLogStatus, renderMarks} from '../cli/render-log.js';
import type {DemoEvent, DemoResult} from './demo.js';

const INDENT = '   ';

function indent(text: string): string {
  return text.split('\n').map(line => `${INDENT}${line}`).join('\n');
}

export function renderDemoEvent(event: DemoEvent): string {
  switch (event.kind) {
    case 'title':
      return `${chalk.bold('marklog demo')}: a primary and a remote site, one pair, a log with marks and a restore, built for real in ${event.dir} ($DEMO below).`;
    case 'step':
      return `\n${chalk.bold(`${event.number}. ${event.title}`)}`;
    case 'say':
      return indent(event.text);
    case 'command':
      return indent(chalk.gray(`$ ${event.line}`));
    case 'site':
      return indent(renderSite(event.view));
    case 'volumes':
      return indent(`${chalk.bold(event.site)}\n${renderVolumes(event.volumes)}`);
    case 'pairs':
      return indent(renderPairs(event.pairs));
    case 'hashes': {
      const verdict = event.hashes.match ? chalk.green('identical') : chalk.yellow('different');
      const width = Math.max(event.mvol.length, event.rvol.length);
      return indent([
        `M-VOL ${event.mvol.padEnd(width)}  sha256 ${event.hashes.mvol.slice(0, 16)}…`,
        `R-VOL ${event.rvol.padEnd(width)}  sha256 ${event.hashes.rvol.slice(0, 16)}…  ${verdict}`,
      ].join('\n'));
    }
    case 'logStatus':
      return indent(renderLogStatus(event.status));
    case 'marks':
      return indent(renderMarks(event.list));
    case 'compare': {
      const width = Math.max(...[event.reference, ...event.others].map(line => line.label.length));
      const line = (label: string, sha256: string, remark: string) => `${label.padEnd(width)}  sha256 ${sha256.slice(0, 16)}…  ${remark}`;
      const note = (text: string | undefined) => (text ? chalk.gray(`(${text})`) : '');
      return indent([
        line(event.reference.label, event.reference.sha256, note(event.reference.note)),
        ...event.others.map(other => line(other.label, other.sha256,
          [other.sha256 === event.reference.sha256 ? chalk.green('identical') : chalk.yellow('different'), note(other.note)].filter(Boolean).join(' '))),
      ].join('\n'));
    }
  }
}

export function renderDemoEnd(result: DemoResult): string {
  const seconds = (result.ms / 1000).toFixed(1);
  const lines = [''];
  lines.push(result.ok
    ? chalk.green(`Done in ${seconds} s: the R-VOL matched the M-VOL in PAIR state and again after a resync of ${result.resync.copiedChunks} chunks, `
      + `and the image restored at osaka to mark ${result.restore.markId} is the M-VOL as it was at that mark, without the garbage written after it.`)
    : chalk.red(`The demo finished in ${seconds} s but a check failed (see above); please report it.`));
  lines.push(result.kept
    ? `The sites are kept in ${result.dir}. Look around:\n${INDENT}marklog site show --site ${result.dir}/tokyo\n${INDENT}marklog pair display --site ${result.dir}/tokyo`
      + `\n${INDENT}marklog mark list --site ${result.dir}/osaka --group ${result.log.group}`
      + `\n${INDENT}marklog restore --site ${result.dir}/osaka --group ${result.log.group} --mark ${result.markIds[0]} --rvol ${result.rvol.ldev} --to ${result.dir}/restored/app-at-mark-${result.markIds[0]}.img`
    : `Removed ${result.dir} (run \`marklog demo --keep\` to keep the sites and look around).`);
  return lines.join('\n');
}
