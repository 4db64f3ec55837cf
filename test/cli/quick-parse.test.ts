// The start-up path parses a command line without oclif (issue 12, item 17). It may
// leave any line to oclif, but a line it accepts must mean exactly what oclif makes
// of it: the same flags, the same arguments, the same --json. Checked on every
// command with random command lines built from its own flags, valid and not.
import {Flags, Parser} from '@oclif/core';
import test from 'ava';
import type {AnyCommandSpec, FlagSpec} from '../../src/cli/command-spec.js';
import {oclifArgs, oclifFlags} from '../../src/cli/oclif-command.js';
import {quickParse} from '../../src/cli/quick-parse.js';
import {COMMANDS} from '../../commands/index.js';
import {caseCount, chooseSeed, Rng} from '../helpers/fuzz.js';

const STRINGS = ['a', '/srv/marklog/tokyo', 'two words', '5', 'latest', 'ldev:3', '1G', 'x=y', '', '-5', '-', '--json', 'primary', 'remote'];
const INTEGERS = ['0', '1', '7', '42', '-1', 'abc', '1.5', '0x10', '007', '99999999999999999999', ''];

function valueFor(rng: Rng, spec: FlagSpec, valid: boolean): string {
  if (spec.kind === 'integer') return valid ? String(Math.max(spec.min ?? 0, rng.int(50))) : rng.pick(INTEGERS);
  if (spec.kind === 'string' && spec.options) return valid ? rng.pick(spec.options) : rng.pick(STRINGS);
  return valid ? rng.pick(STRINGS.filter(s => s && !s.startsWith('-'))) : rng.pick(STRINGS);
}

/** A command line for a spec; `plain` ones use only the forms the quick path promises to take. */
function commandLine(rng: Rng, spec: AnyCommandSpec, plain: boolean): string[] {
  const tokens: string[][] = [];
  const flags = Object.entries(spec.flags as Record<string, FlagSpec>);
  const used = new Set<string>();
  for (const [name, flagSpec] of flags) {
    const required = 'required' in flagSpec && flagSpec.required;
    if (!(plain ? required || rng.chance(0.4) : rng.chance(0.5))) continue;
    if (plain && flags.some(([other, otherSpec]) => used.has(other) && (flagSpec.exclusive?.includes(other) || otherSpec.exclusive?.includes(name)))) continue;
    used.add(name);
    const repeat = plain ? 1 : rng.chance(0.1) ? 2 : 1;
    for (let i = 0; i < repeat; i++) {
      if (flagSpec.kind === 'boolean') tokens.push(plain || rng.chance(0.9) ? [`--${name}`] : [`--${name}=true`]);
      else {
        const value = valueFor(rng, flagSpec, plain || rng.chance(0.7));
        const form = plain ? rng.int(2) : rng.int(4);
        if (form === 0) tokens.push([`--${name}`, value]);
        else if (form === 1) tokens.push([`--${name}=${value}`]);
        else if (form === 2 && flagSpec.char) tokens.push([`-${flagSpec.char}`, value]);
        else tokens.push([`--${name}`]);
      }
    }
  }
  if (spec.jsonFlag !== false && rng.chance(0.3)) tokens.push(['--json']);
  for (const argSpec of Object.values((spec.args ?? {}) as Record<string, {required: boolean}>)) if (argSpec.required || rng.chance(0.5)) tokens.push([rng.pick(STRINGS.filter(s => !s.startsWith('-') && s))]);
  if (!plain) {
    if (rng.chance(0.1)) tokens.push([rng.pick(['--help', '-h', '--', '--nope', '-x', 'extra'])]);
  }
  for (let i = tokens.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [tokens[i], tokens[j]] = [tokens[j], tokens[i]];
  }
  return tokens.flat();
}

/** JSON with keys sorted, so that two parsers' key orders do not matter. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v);
}

async function oclifParse(spec: AnyCommandSpec, argv: string[]): Promise<{flags: Record<string, unknown>; args: Record<string, unknown>} | undefined> {
  const flags = {...oclifFlags(spec), ...(spec.jsonFlag === false ? {} : {json: Flags.boolean({default: false})})};
  try {
    const parsed = await Parser.parse(argv, {flags, args: oclifArgs(spec), strict: true});
    return {flags: parsed.flags as Record<string, unknown>, args: parsed.args as Record<string, unknown>};
  } catch {
    return undefined;
  }
}

test.serial('every command line the quick parser takes, oclif parses to the same flags, arguments and --json; the plain forms are all taken', async t => {
  const seed = chooseSeed();
  t.log(`seed ${seed} (replay with MARKLOG_FUZZ_SEED=${seed})`);
  const saved = process.env.MARKLOG_SITE;
  const problems: string[] = [];
  let compared = 0;
  try {
    for (const [id, load] of Object.entries(COMMANDS)) {
      const spec = (await load()).default;
      const rng = new Rng(seed, id.length * 31 + id.charCodeAt(0));
      for (let n = 0; n < caseCount(400); n++) {
        const plain = n % 3 === 0;
        const env = rng.chance(0.3) ? rng.pick(['/srv/marklog/osaka', '']) : undefined;
        if (env === undefined) delete process.env.MARKLOG_SITE;
        else process.env.MARKLOG_SITE = env;
        const argv = commandLine(rng, spec, plain);
        const quick = quickParse(spec, argv);
        const line = `${id} ${JSON.stringify(argv)} MARKLOG_SITE=${JSON.stringify(env)}`;
        if (!quick) {
          if (plain) problems.push(`${line}: a plain line was left to oclif`);
          continue;
        }
        const full = await oclifParse(spec, argv);
        compared++;
        if (!full) {
          problems.push(`${line}: taken by the quick parser, refused by oclif`);
          continue;
        }
        const {json = false, ...fullFlags} = full.flags;
        const expected = canonical({flags: spec.jsonFlag === false ? full.flags : fullFlags, args: full.args, json: spec.jsonFlag === false ? false : json});
        const actual = canonical({flags: quick.flags, args: quick.args, json: quick.json});
        if (expected !== actual) problems.push(`${line}: quick ${actual}, oclif ${expected}`);
      }
    }
  } finally {
    if (saved === undefined) delete process.env.MARKLOG_SITE;
    else process.env.MARKLOG_SITE = saved;
  }
  t.log(`${compared} command lines compared across ${Object.keys(COMMANDS).length} commands`);
  t.deepEqual(problems.slice(0, 20), []);
  t.true(compared > Object.keys(COMMANDS).length * 40, 'most plain lines reached the comparison');
});
