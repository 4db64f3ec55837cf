// The resident set of a running process, sampled from /proc/PID/status while a test
// loads it (a soak), and the bound a soak holds it to: after a warm-up, the median of
// the last quarter of the samples within a factor and a margin of the first quarter's.
import fs from 'node:fs';
import {median} from '../../bench/lib/measure.js';

export {median};

export interface RssSample {
  /** Since the sampler started. */
  ms: number;
  /** VmRSS, RssAnon and VmHWM, bytes. */
  rss: number;
  anon: number;
  hwm: number;
}

function status(pid: number): RssSample | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return {ms: 0, rss: kib('VmRSS'), anon: kib('RssAnon'), hwm: kib('VmHWM')};
}

/** Samples `pid` every `everyMs` (and once at once) until stop(), which returns the samples. */
export function rssSampler(pid: number, everyMs: number): {stop(): RssSample[]} {
  const started = Date.now();
  const samples: RssSample[] = [];
  const take = () => {
    const sample = status(pid);
    if (sample) samples.push({...sample, ms: Date.now() - started});
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

export interface RssBound {
  /** Medians of the first and last quarters of the samples after the warm-up, and what the last may reach. */
  first: number;
  last: number;
  limit: number;
  /** Samples after the warm-up. */
  counted: number;
}

/**
 * Drops the warm-up (the first `warmupFraction` of the run, and at least `warmupMs`),
 * then: limit = first-quarter median × factor + margin (1.2 and 8 MiB by default).
 */
export function rssBound(samples: RssSample[], options: {warmupFraction: number; warmupMs: number; factor?: number; marginBytes?: number}): RssBound {
  const end = samples.at(-1)?.ms ?? 0;
  const after = samples.filter(s => s.ms >= Math.max(options.warmupMs, end * options.warmupFraction));
  if (after.length < 4) throw new Error(`only ${after.length} RSS samples after the warm-up: the run is too short to judge`);
  const quarter = Math.floor(after.length / 4);
  const first = median(after.slice(0, quarter).map(s => s.rss));
  const last = median(after.slice(-quarter).map(s => s.rss));
  return {first, last, limit: first * (options.factor ?? 1.2) + (options.marginBytes ?? 8 * 1024 * 1024), counted: after.length};
}
