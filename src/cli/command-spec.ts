// What a command is, said once and without oclif: its help text, its flags and
// arguments as plain data, and the function that runs it. The start-up path
// (dispatch.ts) parses and runs a command from this alone; oclif, loaded only for
// help and for the messages of malformed input, gets classes built from the same
// data (oclif-command.ts). So a flag is declared in one place for both.

export interface FlagCommon {
  summary: string;
  /** Flags that may not be given together with this one. */
  exclusive?: readonly string[];
  /** One-letter alias (`-s`). */
  char?: string;
  /** Environment variable read when the flag is not given. */
  env?: string;
}

/** The phantom `value` carries the parsed type to the command's `run`. */
export type FlagSpec<T = unknown> = FlagCommon & {readonly value?: T} & (
  | {kind: 'string'; required?: boolean; default?: string; options?: readonly string[]; multiple?: boolean}
  | {kind: 'integer'; required?: boolean; default?: number; min?: number; max?: number}
  | {kind: 'boolean'; default?: boolean});

export interface ArgSpec<T = unknown> {
  description: string;
  required: boolean;
  readonly value?: T;
}

type StringOptions = FlagCommon & {options?: readonly string[]};
type IntegerOptions = FlagCommon & {min?: number; max?: number};

function string(options: StringOptions & {required: true}): FlagSpec<string>;
function string(options: StringOptions & {default: string}): FlagSpec<string>;
function string(options: StringOptions & {required?: false}): FlagSpec<string | undefined>;
function string(options: StringOptions & {required?: boolean; default?: string}): FlagSpec {
  return {kind: 'string', ...options};
}

function integer(options: IntegerOptions & {required: true}): FlagSpec<number>;
function integer(options: IntegerOptions & {default: number}): FlagSpec<number>;
function integer(options: IntegerOptions & {required?: boolean}): FlagSpec<number | undefined>;
function integer(options: IntegerOptions & {required?: boolean; default?: number}): FlagSpec {
  return {kind: 'integer', ...options};
}

/** Given once per value (`--listen a --listen b`). */
function stringList(options: FlagCommon & {required: true}): FlagSpec<string[]> {
  return {kind: 'string', multiple: true, ...options};
}

function boolean(options: FlagCommon & {default?: boolean}): FlagSpec<boolean> {
  return {kind: 'boolean', default: false, ...options};
}

export const flag = {string, integer, stringList, boolean};

export const arg = {
  string: (options: {description: string; required: true}): ArgSpec<string> => options,
};

export type FlagSpecs = Record<string, FlagSpec>;
export type ArgSpecs = Record<string, ArgSpec>;
export type FlagValues<F extends FlagSpecs> = {[K in keyof F]: F[K] extends FlagSpec<infer T> ? T : never};
export type ArgValues<A extends ArgSpecs> = {[K in keyof A]: A[K] extends ArgSpec<infer T> ? T : never};

/** How a command speaks: `log` is silent under --json, where the returned value is the output. */
export interface CommandOutput {
  readonly json: boolean;
  log(text: string): void;
  /** On stderr in human mode; under --json they travel in the result. */
  warnAll(warnings: readonly string[]): void;
}

export interface CommandSpec<F extends FlagSpecs = FlagSpecs, A extends ArgSpecs = ArgSpecs> {
  summary: string;
  description?: string;
  examples: string[];
  flags: F;
  args?: A;
  /** False for a command that prints its own JSON (a stream of lines) or none. */
  jsonFlag?: boolean;
  run(input: {flags: FlagValues<F>; args: ArgValues<A>}, out: CommandOutput): unknown;
}

/** Identity, for the inference of `run`'s flag types. */
export function defineCommand<F extends FlagSpecs, A extends ArgSpecs = Record<never, never>>(spec: CommandSpec<F, A>): CommandSpec<F, A> {
  return spec;
}

/** Any command, as the tables that list them hold it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCommandSpec = CommandSpec<any, any>;
