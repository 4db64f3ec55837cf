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
  /**
   * marklog / baseline: the median, over the repetitions, of the ratio within each
   * repetition (its two sides ran back to back); null where there is no baseline.
   */
  ratio: number | null;
  /** The ratio within each repetition, in repetition order (null when the sides were not paired). */
  pairedRatios: number[] | null;
  /** marklog median / baseline median: equal to `ratio` when conditions held steady through the run. */
  ratioOfMedians: number | null;
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

/**
 * The row's ratio. A figure and its baseline alternate repetition by repetition, so
 * each repetition's pair saw the same machine; the median of those ratios is not
 * thrown off when the machine changes pace part-way through a row (this VM's page
 * cache slows several-fold after some gigabytes have been written, for both sides),
 * where a ratio of medians can pair a fast repetition with a slow one.
 */
export function makeRow(row: Omit<RowResult, 'ratio' | 'pass' | 'wallSeconds' | 'checked' | 'pairedRatios' | 'ratioOfMedians'> & {checked?: 'ratio' | 'value'; ratioToo?: boolean}, wallSeconds: number): RowResult {
  const {ratioToo, ...fields} = row;
  row = fields;
  const checked = row.checked ?? 'ratio';
  // A row checked on its value may still show its ratio to the baseline (row 12).
  const withRatio = checked === 'ratio' || ratioToo === true;
  const ratioOfMedians = withRatio && row.baseline ? row.marklog.median / row.baseline.median : null;
  const paired = withRatio && row.baseline && row.baseline.samples.length === row.marklog.samples.length
    ? row.marklog.samples.map((m, i) => m / row.baseline!.samples[i])
    : null;
  const ratio = paired ? median(paired) : ratioOfMedians;
  const value = checked === 'ratio' ? ratio! : row.marklog.median;
  return {...row, checked, ratio, pairedRatios: paired, ratioOfMedians, pass: verdict(value, row.target), wallSeconds};
}

/** Throughput samples (unit per second) from times. */
export function rates(amount: number, seconds: number[]): number[] {
  return seconds.map(s => amount / s);
}
