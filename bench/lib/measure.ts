// Timing: each side of a figure is a function that returns the seconds of its
// timed part (setup and cleanup stay outside). Warm-up runs are discarded, then
// the two sides alternate which goes first, so drift from background load hits
// both equally.
import {spawnSync} from 'node:child_process';

export function now(): bigint {
  return process.hrtime.bigint();
}

export function since(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Times `work` alone. */
export function timed(work: () => void): number {
  const start = now();
  work();
  return since(start);
}

/** timed() for work that awaits (marklog's library calls that reach the remote). */
export async function timedAsync(work: () => Promise<void>): Promise<number> {
  const start = now();
  await work();
  return since(start);
}

/** What a side or a contender may return: its seconds (or rate), now or once its work is done. */
type Measured = number | Promise<number>;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Writes back dirty pages so one repetition's writeback does not land in the next one's timing. */
export function settle(enabled: boolean): void {
  if (enabled) spawnSync('sync', {stdio: 'ignore'});
}

export interface Sides {
  marklog: number[];
  baseline: number[];
}

export interface PairedRun {
  warmup: number;
  repeat: number;
  settle: boolean;
  marklog: (rep: number) => Measured;
  baseline: (rep: number) => Measured;
  /** Untimed setup before a side runs (before the settle). */
  prepare?: (side: 'marklog' | 'baseline', rep: number) => void | Promise<void>;
  log?: (text: string) => void;
  /** What a side returns, for the log lines (default 's': seconds; a side may return a rate instead). */
  unit?: string;
}

/**
 * Lets the event loop turn between repetitions (untimed). marklog's volume windows
 * are native external buffers whose munmap runs from a finalizer on the event loop;
 * a bench that never yields would pile up mappings no real process keeps.
 */
export function yieldLoop(): Promise<void> {
  return new Promise(resolve => setImmediate(resolve));
}

export async function runPaired(run: PairedRun): Promise<Sides> {
  const out: Sides = {marklog: [], baseline: []};
  const one = async (side: 'marklog' | 'baseline', rep: number, keep: boolean) => {
    await yieldLoop();
    await run.prepare?.(side, rep);
    settle(run.settle);
    const seconds = await run[side](rep);
    if (keep) out[side].push(seconds);
    run.log?.(`${keep ? `rep ${rep}` : 'warm-up'} ${side} ${seconds.toFixed(4)} ${run.unit ?? 's'}`);
  };
  let rep = 0;
  for (let i = 0; i < run.warmup; i++, rep++) {
    await one('baseline', rep, false);
    await one('marklog', rep, false);
  }
  for (let i = 0; i < run.repeat; i++, rep++) {
    const order: ('marklog' | 'baseline')[] = i % 2 === 0 ? ['baseline', 'marklog'] : ['marklog', 'baseline'];
    for (const side of order) await one(side, rep, true);
  }
  return out;
}

export interface SingleRun {
  warmup: number;
  repeat: number;
  settle: boolean;
  work: (rep: number) => Measured;
  prepare?: (rep: number) => void | Promise<void>;
  log?: (text: string) => void;
}

export async function runSingle({warmup, repeat, settle: doSettle, work, prepare, log}: SingleRun): Promise<number[]> {
  const out: number[] = [];
  let rep = 0;
  for (let i = 0; i < warmup; i++, rep++) {
    await yieldLoop();
    await prepare?.(rep);
    settle(doSettle);
    const s = await work(rep);
    log?.(`warm-up ${s.toFixed(4)} s`);
  }
  for (let i = 0; i < repeat; i++, rep++) {
    await yieldLoop();
    await prepare?.(rep);
    settle(doSettle);
    const s = await work(rep);
    out.push(s);
    log?.(`rep ${rep} ${s.toFixed(4)} s`);
  }
  return out;
}

/** A small deterministic PRNG (mulberry32): the same offsets for marklog and its baseline. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** k distinct integers from [0, n), in random order. */
export function pickDistinct(n: number, k: number, random: () => number): number[] {
  if (k > n) throw new Error(`cannot pick ${k} distinct values of ${n}`);
  if (k > n / 2) return shuffle(Array.from({length: n}, (_, i) => i), random).slice(0, k);
  const chosen = new Set<number>();
  while (chosen.size < k) chosen.add(Math.floor(random() * n));
  return shuffle([...chosen], random);
}

export interface Contender {
  /** Untimed setup before each run (before the settle). */
  prepare?: (rep: number) => void | Promise<void>;
  /** Returns the seconds of its timed part. */
  work: (rep: number) => Measured;
}

/**
 * Several contenders measured in rounds: every round runs each once, the order
 * rotating from round to round, so each figure and its baseline see the same
 * background load. The first `warmup` rounds are discarded.
 */
export async function runRounds<K extends string>(opts: {warmup: number; repeat: number; settle: boolean; log?: (text: string) => void; unit?: string}, contenders: Record<K, Contender>): Promise<Record<K, number[]>> {
  const names = Object.keys(contenders) as K[];
  const out = Object.fromEntries(names.map(n => [n, [] as number[]])) as unknown as Record<K, number[]>;
  for (let round = 0; round < opts.warmup + opts.repeat; round++) {
    const keep = round >= opts.warmup;
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length];
      await yieldLoop();
      await contenders[name].prepare?.(round);
      settle(opts.settle);
      const seconds = await contenders[name].work(round);
      if (keep) out[name].push(seconds);
      opts.log?.(`${keep ? `rep ${round}` : 'warm-up'} ${name} ${seconds.toFixed(4)} ${opts.unit ?? 's'}`);
    }
  }
  return out;
}
