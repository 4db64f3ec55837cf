import {InvalidArgumentError} from '../errors.js';

// ISO 8601 as operators type it: a date, or a date and a time (T or a space), with an
// optional fraction and an optional zone. Without a zone the time is UTC, as `mark list`
// prints it: the same text must pick the same mark whatever TZ the shell has.
const TIMESTAMP = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i;

export function parseTimestamp(text: string, what = 'time'): Date {
  const match = TIMESTAMP.exec(text.trim());
  if (!match) {
    throw new InvalidArgumentError(`${what} "${text}" is not an ISO 8601 time`, 'for example 2026-11-25T03:10:00Z, or 2026-11-25 12:10+09:00; a time without a zone is UTC');
  }
  const [, date, clock = '00:00', zone = 'Z'] = match;
  const offset = /^[+-]\d{4}$/.test(zone) ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone.toUpperCase();
  const parsed = new Date(`${date}T${clock}${offset}`);
  if (Number.isNaN(parsed.getTime())) throw new InvalidArgumentError(`${what} "${text}" is not a valid date or time`);
  return parsed;
}

/** The clock records are stamped with: µs since the Unix epoch. */
export function nowMicros(): number {
  return Date.now() * 1000;
}
