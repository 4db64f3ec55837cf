// The recovery side of the heartbeat (patent Fig. 22): probe the main path every
// interval; after N misses try the alternate; when both are silent the
// production host is LOST and the configured action runs. Recovery is reported.
import {probe, type HeartbeatPath} from './heartbeat-path.js';

export type WatchState = 'OK' | 'MAIN_MISSED' | 'TRYING_ALTERNATE' | 'ALTERNATE_OK' | 'LOST' | 'RECOVERED';

export interface WatchEvent {
  state: WatchState;
  time: string;
  /** Which path the event is about. */
  path: 'main' | 'alternate' | 'both';
  /** Consecutive misses on the main path. */
  misses: number;
  message: string;
}

export interface WatchOptions {
  main: HeartbeatPath;
  alternate?: HeartbeatPath;
  intervalMs: number;
  misses: number;
  /** Stop after this long (tests, drills); forever when absent. */
  maxTimeMs?: number;
  /** Stop once the LOST action has run. */
  exitOnLoss?: boolean;
  onEvent: (event: WatchEvent) => void;
  /** Runs once per loss; its result is reported by the caller. */
  onLoss?: () => Promise<void>;
  signal?: AbortSignal;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    const wake = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', wake);
      resolve();
    }, ms);
    signal?.addEventListener('abort', wake, {once: true});
  });
}

export async function watchHeartbeat(options: WatchOptions): Promise<{lost: boolean}> {
  const started = Date.now();
  const freshMs = Math.max(options.intervalMs * 3, 100);
  const timeoutMs = Math.max(options.intervalMs, 50);
  let misses = 0;
  let state: WatchState | undefined;
  let lostOnce = false;
  const emit = (next: WatchState, path: WatchEvent['path'], message: string) => {
    state = next;
    options.onEvent({state: next, time: new Date().toISOString(), path, misses, message});
  };

  while (!options.signal?.aborted && (options.maxTimeMs === undefined || Date.now() - started < options.maxTimeMs)) {
    const beat = Date.now();
    if (await probe(options.main, timeoutMs, freshMs)) {
      if (state === undefined) emit('OK', 'main', `production host answers on ${options.main.text}`);
      else if (state !== 'OK' && state !== 'RECOVERED') emit('RECOVERED', 'main', `main path ${options.main.text} answers again after ${misses} misses`);
      else if (state === 'RECOVERED') state = 'OK';
      misses = 0;
    } else {
      misses++;
      if (misses < options.misses) {
        emit('MAIN_MISSED', 'main', `main path ${options.main.text} missed ${misses} of ${options.misses}`);
      } else {
        if (state === 'MAIN_MISSED' || state === 'OK' || state === 'RECOVERED' || state === undefined) {
          emit('TRYING_ALTERNATE', 'alternate', options.alternate
            ? `main path ${options.main.text} missed ${misses} times; trying alternate path ${options.alternate.text}`
            : `main path ${options.main.text} missed ${misses} times; no alternate path to try`);
        }
        const alive = options.alternate ? await probe(options.alternate, timeoutMs, freshMs) : false;
        if (alive) {
          if (state === 'LOST') emit('RECOVERED', 'alternate', `alternate path ${options.alternate!.text} answers again`);
          else if (state !== 'ALTERNATE_OK') emit('ALTERNATE_OK', 'alternate', `the production host still answers on alternate path ${options.alternate!.text}`);
        } else if (state !== 'LOST') {
          emit('LOST', 'both', options.alternate
            ? `main path missed ${misses} times and alternate path ${options.alternate.text} is silent: production host lost`
            : `main path missed ${misses} times and there is no alternate path: production host lost`);
          if (!lostOnce && options.onLoss) await options.onLoss();
          lostOnce = true;
          if (options.exitOnLoss) return {lost: true};
        }
      }
    }
    await sleep(Math.max(0, options.intervalMs - (Date.now() - beat)), options.signal);
  }
  return {lost: lostOnce};
}
