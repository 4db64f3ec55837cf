// Flags and arguments parsed from a command's spec without oclif, for the start-up
// path. It accepts only what it is sure of, and gives exactly what oclif's parser
// gives for it (test/cli/quick-parse.test.ts compares the two on every command);
// anything else (help, a misspelled flag, a missing value, an integer out of range,
// `--`, flags given twice) answers undefined, and the caller hands the whole
// command line to oclif, whose messages and help stay the only ones.
import type {CommandSpec, FlagSpec} from './command-spec.js';

export interface QuickParse {
  flags: Record<string, unknown>;
  args: Record<string, string>;
  json: boolean;
}

type Env = Record<string, string | undefined>;

function valueOf(spec: FlagSpec, text: string): unknown {
  if (spec.kind === 'integer') {
    if (!/^\d+$/.test(text)) return undefined;
    const value = Number.parseInt(text, 10);
    if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) return undefined;
    return value;
  }
  if (spec.kind === 'string' && spec.options && !spec.options.includes(text)) return undefined;
  return text;
}

export function quickParse(spec: CommandSpec, argv: readonly string[], env: Env = process.env): QuickParse | undefined {
  const jsonFlag = spec.jsonFlag !== false;
  const given = new Map<string, unknown>();
  const positionals: string[] = [];
  let json = false;
  const names = new Map<string, string>();
  for (const [name, flagSpec] of Object.entries(spec.flags)) {
    names.set(`--${name}`, name);
    if (flagSpec.char) names.set(`-${flagSpec.char}`, name);
  }
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (!token.startsWith('-') || token === '-') {
      positionals.push(token);
      continue;
    }
    if (jsonFlag && token === '--json') {
      if (json) return undefined;
      json = true;
      continue;
    }
    const equals = token.startsWith('--') ? token.indexOf('=') : -1;
    const name = names.get(equals === -1 ? token : token.slice(0, equals));
    if (name === undefined || given.has(name) && !(spec.flags[name] as {multiple?: boolean}).multiple) return undefined;
    const flagSpec = spec.flags[name];
    if (flagSpec.kind === 'boolean') {
      if (equals !== -1) return undefined;
      given.set(name, true);
      continue;
    }
    const text = equals === -1 ? argv[++i] : token.slice(equals + 1);
    // oclif takes "-5" or "-" as a value unless it names a flag (even after "="); that judgement stays oclif's.
    if (text === undefined || text.startsWith('-')) return undefined;
    const value = valueOf(flagSpec, text);
    if (value === undefined) return undefined;
    if (flagSpec.kind === 'string' && flagSpec.multiple) {
      // oclif lets a multiple flag take the words after it too; which is which stays oclif's to say.
      if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('-')) return undefined;
      given.set(name, [...(given.get(name) as string[] | undefined ?? []), value]);
    } else given.set(name, value);
  }
  const flags: Record<string, unknown> = {};
  for (const [name, flagSpec] of Object.entries(spec.flags)) {
    if (given.has(name)) {
      if (flagSpec.exclusive?.some(other => given.has(other))) return undefined;
      flags[name] = given.get(name);
      continue;
    }
    const fromEnv = flagSpec.env ? env[flagSpec.env] : undefined;
    if (fromEnv) {
      if (flagSpec.kind === 'boolean') return undefined;
      const value = valueOf(flagSpec, fromEnv);
      if (value === undefined) return undefined;
      flags[name] = flagSpec.kind === 'string' && flagSpec.multiple ? [value] : value;
    } else if (flagSpec.default !== undefined) flags[name] = flagSpec.default;
    else if ('required' in flagSpec && flagSpec.required) return undefined;
  }
  const argSpecs = Object.entries(spec.args ?? {});
  if (positionals.length > argSpecs.length) return undefined;
  const args: Record<string, string> = {};
  for (const [index, [name, argSpec]] of argSpecs.entries()) {
    if (positionals[index] !== undefined) args[name] = positionals[index];
    else if (argSpec.required) return undefined;
  }
  return {flags, args, json};
}
