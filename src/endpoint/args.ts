// The arguments of a request as the method table receives them: one JSON object
// whose members are named after the SiteLink method's parameters (docs/WIRE.md
// §7.1), and the binary part as pieces. Over the wire they come from another
// machine, so every member a method reads is checked here and a bad one is an
// InvalidArgumentError that names it, never a TypeError deep inside the site.
import {InvalidArgumentError} from '../errors.js';

export type Args = Record<string, unknown>;

/** The binary part of a request, as the pieces it arrived in (the local transport passes its buffers uncopied). */
export type Bytes = readonly Uint8Array[];

export const NO_BYTES: Bytes = [];

export function argsOf(value: unknown): Args {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidArgumentError('the arguments of a request must be one JSON object');
  return value as Args;
}

function bad(name: string, what: string): InvalidArgumentError {
  return new InvalidArgumentError(`argument "${name}" must be ${what}`);
}

/** A whole number from 0 to 2^53 − 1 (LDEVs, offsets, lengths, group and pair numbers). */
export function whole(args: Args, name: string): number {
  const value = args[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw bad(name, 'a whole number from 0 to 2^53 - 1');
  return value;
}

export function optionalWhole(args: Args, name: string): number | undefined {
  return args[name] === undefined ? undefined : whole(args, name);
}

export function text(args: Args, name: string): string {
  const value = args[name];
  if (typeof value !== 'string') throw bad(name, 'a string');
  return value;
}

export function flag(args: Args, name: string): boolean {
  const value = args[name] ?? false;
  if (typeof value !== 'boolean') throw bad(name, 'true or false');
  return value;
}

export function oneOf<T extends string>(args: Args, name: string, values: readonly T[]): T {
  const value = args[name];
  if (!values.includes(value as T)) throw bad(name, `one of ${values.join(', ')}`);
  return value as T;
}

/** An object whose own members the site code reads; checked for the members named here. */
export function record<T>(args: Args, name: string, members: Record<string, 'whole' | 'string' | 'array' | 'optional'> = {}): T {
  const value = args[name];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(name, 'an object');
  const inner = value as Args;
  for (const [member, kind] of Object.entries(members)) {
    const label = `${name}.${member}`;
    if (kind === 'whole') whole({[label]: inner[member]}, label);
    if (kind === 'string') text({[label]: inner[member]}, label);
    if (kind === 'array' && !Array.isArray(inner[member])) throw bad(label, 'an array');
  }
  return value as T;
}

export function list(args: Args, name: string): Args[] {
  const value = args[name];
  if (!Array.isArray(value) || !value.every(v => typeof v === 'object' && v !== null && !Array.isArray(v))) throw bad(name, 'an array of objects');
  return value as Args[];
}

/** Takes the binary part in order, `length` bytes at a time: a view where one piece holds them, a copy only across pieces. */
export class ByteCursor {
  private piece = 0;
  private at = 0;

  constructor(private readonly pieces: Bytes) {}

  get remaining(): number {
    let n = 0;
    for (let i = this.piece; i < this.pieces.length; i++) n += this.pieces[i].length - (i === this.piece ? this.at : 0);
    return n;
  }

  take(length: number, what: string): Uint8Array {
    if (length > this.remaining) throw new InvalidArgumentError(`${what} names ${length} bytes but the request carries only ${this.remaining} more`);
    while (this.piece < this.pieces.length && this.at === this.pieces[this.piece].length) {
      this.piece++;
      this.at = 0;
    }
    const current = this.pieces[this.piece];
    if (current && current.length - this.at >= length) {
      const view = current.subarray(this.at, this.at + length);
      this.at += length;
      return view;
    }
    const out = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const source = this.pieces[this.piece];
      const n = Math.min(length - filled, source.length - this.at);
      out.set(source.subarray(this.at, this.at + n), filled);
      filled += n;
      this.at += n;
      if (this.at === source.length) {
        this.piece++;
        this.at = 0;
      }
    }
    return out;
  }

  /** Every byte must have been named: extra bytes mean the two sides disagree on the arguments. */
  end(what: string): void {
    if (this.remaining !== 0) throw new InvalidArgumentError(`${what} carries ${this.remaining} bytes its arguments do not name`);
  }
}

/** The whole binary part as one buffer (one piece: itself, uncopied). */
export function allBytes(pieces: Bytes): Uint8Array {
  if (pieces.length === 1) return pieces[0];
  return Buffer.concat(pieces);
}
