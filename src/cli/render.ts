// Human views of the tables. Commands call these only when --json is off.
import chalk from 'chalk';
import Table from 'cli-table3';
import {formatBytes} from '../util/units.js';
import type {LinkRow, VolumeRow, PairState} from '../site/tables.js';
import type {PairView} from '../pair/pair-display.js';
import type {RvolView} from '../pair/rvol-display.js';
import type {SiteView} from '../site/site-admin.js';

const STATE_COLOUR: Record<PairState, (text: string) => string> = {
  PAIR: chalk.green, COPY: chalk.cyan, PSUS: chalk.yellow, PSUE: chalk.red, SSWS: chalk.magenta, SMPL: chalk.gray,
};

function table(head: string[]): Table.Table {
  return new Table({head: head.map(h => chalk.bold(h)), style: {head: [], border: []}});
}

export function renderVolumes(volumes: VolumeRow[]): string {
  if (volumes.length === 0) return 'no volumes';
  const out = table(['LDEV', 'id', 'host type', 'path', 'state', 'reserve', 'pair', 'log group', 'capacity']);
  for (const v of volumes) {
    const pairs = [...v.pairs, ...(v.rvolOf ? [`R${v.rvolOf.pair}`] : [])];
    out.push([v.ldev, v.id, v.hostType, v.pathDefined ? 'yes' : 'no', v.state, v.reserve, pairs.join(',') || '-', v.logGroup ?? '-', formatBytes(v.capacity)]);
  }
  return out.toString();
}

export function renderPairs(pairs: PairView[]): string {
  if (pairs.length === 0) return 'no pairs';
  const out = table(['pair', 'M-VOL', 'R-VOL', 'state', 'direction', 'chunk', 'dirty chunks', 'dirty', 'copy']);
  for (const p of pairs) {
    out.push([p.pair, p.mvol, `${p.rvol.site}:${p.rvol.ldev}`, STATE_COLOUR[p.state](p.state), p.direction === 'reverse' ? 'M-VOL ← R-VOL' : 'M-VOL → R-VOL', formatBytes(p.chunkSize),
      `${p.dirtyChunks} / ${p.chunks}`, formatBytes(p.dirtyBytes), `${p.copyProgress}%`]);
  }
  return out.toString();
}

export function renderRvols(rvols: RvolView[]): string {
  if (rvols.length === 0) return 'no R-VOLs';
  const out = table(['R-VOL', 'pair', 'M-VOL', 'state', 'direction', 'log group', 'taken over', 'at mark', 'changed since']);
  for (const r of rvols) {
    out.push([r.rvol, r.pair, `${r.primary}:${r.mvol}`, r.state ? STATE_COLOUR[r.state](r.state) : '?', r.direction === 'reverse' ? 'M-VOL ← R-VOL' : 'M-VOL → R-VOL',
      r.logGroup ?? '-', r.takenOver ?? '-', r.takenOver ? (r.takeoverMark ?? 'end of log') : '-', r.takenOver ? formatBytes(r.changedBytes) : '-']);
  }
  return out.toString();
}

/** Where a link row reaches its site, and with which TLS files: the first thing to check when a link fails. */
function linkText(row: LinkRow): string {
  const tls = row.tls ? ` (TLS: cert ${row.tls.cert}, key ${row.tls.key}, CA ${row.tls.ca})` : '';
  return `${row.name} at ${row.remote}${tls}`;
}

export function renderSite(view: SiteView): string {
  const lines = [
    `${chalk.bold(view.site.name)} (${view.site.role}) ${chalk.gray(view.site.id)}`,
    `directory: ${view.dir}`,
    `link: ${view.link ? linkText(view.link) : 'none'}`,
    ...view.peers.map(peer => `way back to ${peer.name}: ${peer.remote === '' ? 'none' : linkText(peer)}`),
    '',
    renderVolumes(view.volumes),
  ];
  if (view.pairs.length > 0) {
    const out = table(['pair', 'M-VOL', 'R-VOL', 'state', 'chunk']);
    for (const p of view.pairs) out.push([p.pair, p.mvol, `${p.rvol.name}:${p.rvol.ldev}`, STATE_COLOUR[p.state](p.state), formatBytes(p.chunkSize)]);
    lines.push('', out.toString());
  }
  return lines.join('\n');
}
