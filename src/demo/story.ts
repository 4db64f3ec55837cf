// The human view of `marklog demo`: each event of the story as a few lines of text,
// tables drawn by the same render functions the other commands use.
import chalk from 'chalk';
import {renderPairs, renderSite, renderVolumes} from '../cli/render.js';
import type {DemoEvent, DemoResult} from './demo.js';

const INDENT = '   ';

function indent(text: string): string {
  return text.split('\n').map(line => `${INDENT}${line}`).join('\n');
}

export function renderDemoEvent(event: DemoEvent): string {
  switch (event.kind) {
    case 'title':
      return `${chalk.bold('marklog demo')}: a primary and a remote site, one pair, built for real in ${event.dir} ($DEMO below).`;
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
  }
}

export function renderDemoEnd(result: DemoResult): string {
  const seconds = (result.ms / 1000).toFixed(1);
  const lines = [''];
  lines.push(result.ok
    ? chalk.green(`Done in ${seconds} s: the R-VOL matched the M-VOL in PAIR state and again after a resync of ${result.resync.copiedChunks} chunks.`)
    : chalk.red(`The demo finished in ${seconds} s but a check failed (see above); please report it.`));
  lines.push(result.kept
    ? `The sites are kept in ${result.dir}. Look around:\n${INDENT}marklog site show --site ${result.dir}/tokyo\n${INDENT}marklog pair display --site ${result.dir}/tokyo`
    : `Removed ${result.dir} (run \`marklog demo --keep\` to keep the sites and look around).`);
  return lines.join('\n');
}
