// The table printed at the end of a run (Markdown, so it pastes into docs/PERFORMANCE.md).
import type {RowResult, Series} from './result.js';

function value(unit: string, v: number): string {
  switch (unit) {
    case 'MiB/s':
      return `${v.toFixed(v < 100 ? 1 : 0)} MiB/s`;
    case 'ops/s':
      return `${Math.round(v).toLocaleString('en-US')} ops/s`;
    case 's':
      return v < 1 ? `${(v * 1000).toFixed(1)} ms` : `${v.toFixed(3)} s`;
    case 'MiB':
      return `${v.toFixed(1)} MiB`;
    default:
      return `${v} ${unit}`;
  }
}

function cell(unit: string, s: Series | null): string {
  if (!s) return '—';
  return value(unit, s.median);
}

/** Rows whose ratio is a multiple (of `node -e 0`, of one write per round trip), shown as N×. */
const TIMES = new Set(['mark-cli', 'wire-delay-pair-rand']);

function target(row: RowResult): string {
  const op = row.target.op === '>=' ? '≥' : '≤';
  if (row.checked === 'value') return `${op} ${value(row.unit, row.target.value)}`;
  if (TIMES.has(row.name)) return `${op} ${row.target.value}×`;
  return `${op} ${row.target.value}`;
}

function ratio(row: RowResult): string {
  if (row.ratio === null) return '—';
  return TIMES.has(row.name) ? `${row.ratio.toFixed(2)}×` : row.ratio.toFixed(3);
}

export function renderTable(rows: RowResult[], failures: {n: number; name: string; error: string}[]): string {
  const header = ['#', 'figure', 'marklog (median)', 'baseline (median)', 'ratio', 'target', 'result'];
  const body: string[][] = rows.map(row => [
    String(row.n), row.figure, cell(row.unit, row.marklog), cell(row.unit, row.baseline), ratio(row), target(row), row.pass ? 'PASS' : 'MISS',
  ]);
  for (const failure of failures) body.push([String(failure.n), failure.name, `error: ${failure.error.split('\n')[0]}`, '', '', '', 'ERROR']);
  body.sort((a, b) => Number(a[0]) - Number(b[0]));
  const widths = header.map((h, i) => Math.max(h.length, ...body.map(r => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map(w => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

/** Spread of every series: shows how steady a figure was. */
export function renderSpread(rows: RowResult[]): string {
  return rows.map(row => {
    const part = (label: string, s: Series | null) => s
      ? `${label} ${value(row.unit, s.min)} … ${value(row.unit, s.max)} (n=${s.samples.length})`
      : '';
    const paired = row.pairedRatios
      ? `; ratio per repetition ${row.pairedRatios.map(r => r.toFixed(2)).join(' ')} (ratio of the medians ${row.ratioOfMedians!.toFixed(3)})`
      : '';
    return `  ${row.n}. ${[part('marklog', row.marklog), part('baseline', row.baseline)].filter(Boolean).join('; ')}${paired}`;
  }).join('\n');
}
