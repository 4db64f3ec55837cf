// One row of the table: a marklog figure, its baseline from the same run, the
// ratio marklog / baseline, and the target it is held to.
import {median} from './measure.js';
import type {RowName} from './params.js';

export interface Series {
  /** What was measured, in words. */
  what: string;
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export interface RowResult {
  n: number;
  name: RowName;
  figure: string;
  /** Unit of the marklog and baseline values. */
  unit: string;
  marklog: Series;
  baseline: Series | null;
  /** marklog / baseline (of the medians); null where there is no baseline. */
  ratio: number | null;
  /** What is compared with the target: the ratio, or the marklog value itself. */
  checked: 'ratio' | 'value';
  target: {op: '>=' | '<='; value: number};
  pass: boolean;
  detail: Record<string, unknown>;
  wallSeconds: number;
}

export function series(what: string, samples: number[]): Series {
  return {what, median: median(samples), min: Math.min(...samples), max: Math.max(...samples), samples};
}

export function verdict(value: number, target: RowResult['target']): boolean {
  return target.op === '>=' ? value >= target.value : value <= target.value;
}

export function makeRow(row: Omit<RowResult, 'ratio' | 'pass' | 'wallSeconds' | 'checked'> & {checked?: 'ratio' | 'value'}, wallSeconds: number): RowResult {
  const checked = row.checked ?? 'ratio';
  const ratio = checked === 'ratio' && row.baseline ? row.marklog.median / row.baseline.median : null;
  const value = checked === 'ratio' ? ratio! : row.marklog.median;
  return {...row, checked, ratio, pass: verdict(value, row.target), wallSeconds};
}

/** Throughput samples (unit per second) from times. */
export function rates(amount: number, seconds: number[]): number[] {
  return seconds.map(s => amount / s);
}
