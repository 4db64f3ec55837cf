// Errors across the wire (docs/WIRE.md §8): the agent sends {code, message, hint,
// details} and the client rebuilds the class that has that code, so code that catches
// a LogFullError or reads a MarkIdReusedError's nextFree works the same whether the
// remote is a directory or another machine. The classes are found from src/errors.ts
// itself, so a class added there crosses the wire without a table to keep up here.
import * as errors from '../errors.js';
import {MarklogError, RemoteInternalError} from '../errors.js';
import type {ErrorBody, ErrorDetail} from './wire-bodies.js';

/** A sender cuts message, hint and string details to this many characters, so an ERROR always fits its frame. */
export const MAX_ERROR_TEXT = 16_384;
/** And sends at most this many details. */
export const MAX_ERROR_DETAILS = 16;

/** Fields every MarklogError has; the rest of an instance's own fields are its class's details. */
const COMMON_FIELDS = new Set(['code', 'category', 'hint', 'message', 'name', 'stack', 'cause']);

type ErrorClass = new (...args: never[]) => MarklogError;

interface Rebuildable {
  cls: ErrorClass;
  details: string[];
}

let byCode: Map<string, Rebuildable> | undefined;

/** Each class is made once, with no arguments, to learn its code and field names; their constructors only format text. */
function classes(): Map<string, Rebuildable> {
  if (byCode) return byCode;
  byCode = new Map();
  for (const value of Object.values(errors)) {
    if (typeof value !== 'function' || !(value.prototype instanceof MarklogError)) continue;
    const cls = value as unknown as ErrorClass;
    const probe = Reflect.construct(cls, []) as MarklogError;
    byCode.set(probe.code, {cls, details: Object.keys(probe).filter(key => !COMMON_FIELDS.has(key))});
  }
  return byCode;
}

/** The codes this side can rebuild as their own class. */
export function rebuildableCodes(): string[] {
  return [...classes().keys()];
}

function cut(text: string): string {
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT - 1)}…` : text;
}

function detailOf(value: unknown): ErrorDetail | undefined {
  if (typeof value === 'string') return cut(value);
  if (value === null || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return value;
  return undefined;
}

/**
 * What the agent sends for a failure. A MarklogError keeps its code; a failed system
 * call is IO_ERROR, as the CLI reports it; anything else is a bug there, INTERNAL,
 * with its stack for the report.
 */
export function errorBodyOf(error: unknown): ErrorBody {
  if (error instanceof MarklogError) {
    const body: ErrorBody = {code: error.code, message: cut(error.message)};
    if (error.hint !== undefined) body.hint = cut(error.hint);
    const details: Record<string, ErrorDetail> = {};
    for (const key of Object.keys(error).filter(k => !COMMON_FIELDS.has(k)).slice(0, MAX_ERROR_DETAILS)) {
      const value = detailOf((error as unknown as Record<string, unknown>)[key]);
      if (value !== undefined) details[key] = value;
    }
    if (Object.keys(details).length > 0) body.details = details;
    return body;
  }
  const system = error as NodeJS.ErrnoException;
  if (typeof system?.code === 'string' && typeof system.syscall === 'string') return {code: 'IO_ERROR', message: cut(system.message)};
  return {code: 'INTERNAL', message: cut((error as Error)?.stack ?? String(error))};
}

/**
 * The error a client throws for an ERROR frame: an instance of the class with the
 * body's code, carrying the agent's message and hint and the class's own details;
 * a code with no class here is a RemoteInternalError that keeps it.
 */
export function rebuildError(body: ErrorBody): MarklogError {
  const known = classes().get(body.code);
  if (!known) return new RemoteInternalError(body.code, body.message, body.hint);
  const error = Reflect.construct(known.cls, []) as MarklogError;
  error.message = body.message;
  error.hint = body.hint;
  // The stack's first line was written for the empty instance; it names the agent's message instead.
  const below = error.stack?.split('\n').slice(1).join('\n');
  error.stack = `${error.name}: ${body.message}${below ? `\n${below}` : ''}`;
  const fields = error as unknown as Record<string, unknown>;
  for (const key of known.details) {
    if (body.details && Object.hasOwn(body.details, key)) fields[key] = body.details[key];
  }
  return error;
}
