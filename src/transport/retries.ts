// Reaching a remote that is away for a moment is not yet an error: both transports
// try again a few times (MARKLOG_LINK_RETRIES, default 3), waiting 100, 200, 300 ms …
// between attempts, and only then give up with REMOTE_UNREACHABLE.
import {RemoteUnreachableError} from '../errors.js';

/** A whole number from the environment, or `fallback` when it is unset or not one. */
export function envWhole(name: string, fallback: number): number {
  const text = process.env[name]?.trim();
  const value = text ? Number(text) : Number.NaN;
  return Number.isSafeInteger(value) && value >= 0 ? value : fallback;
}

export interface RetryOptions {
  /** Where the remote is, in words. */
  address: string;
  /** Attempts after the first (default MARKLOG_LINK_RETRIES, else 3). */
  retries?: number;
  /** Whether a failed attempt may be tried again; anything else is thrown at once. */
  retryable: (error: unknown) => boolean;
  /** The hint of the final error, given the last attempt's error. */
  hint: (last: unknown) => string;
}

export async function withRetries<T>(attempt: () => Promise<T>, options: RetryOptions): Promise<T> {
  const attempts = (options.retries ?? envWhole('MARKLOG_LINK_RETRIES', 3)) + 1;
  let last: unknown;
  for (let n = 1; n <= attempts; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (!options.retryable(error)) throw error;
      last = error;
      if (n < attempts) await new Promise(resolve => setTimeout(resolve, 100 * n));
    }
  }
  throw new RemoteUnreachableError(`remote site ${options.address} does not answer after ${attempts} attempts: ${(last as Error).message}`, options.hint(last));
}
