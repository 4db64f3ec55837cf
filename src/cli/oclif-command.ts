// oclif classes built from the command specs, for help and for the messages of
// input the start-up path leaves to oclif. Only this module (and the table that
// feeds it, commands/oclif.ts) loads @oclif/core.
import {Args, Command, Errors, Flags, type Interfaces} from '@oclif/core';
import type {AnyCommandSpec, ArgSpec, FlagSpec} from './command-spec.js';
// oclif's path runs commands too (help aside): the link transports are plugged in for it as for the start-up path.
import '../transport/transports.js';
import {commandOutput} from './dispatch.js';
import {reportError} from './error-report.js';
import {formatJson} from './json-output.js';

function oclifFlag(spec: FlagSpec): Interfaces.Flag<unknown> {
  const common = {summary: spec.summary, exclusive: spec.exclusive ? [...spec.exclusive] : undefined, char: spec.char as Interfaces.AlphabetLowercase | undefined, env: spec.env};
  switch (spec.kind) {
    case 'boolean': return Flags.boolean({...common, default: spec.default});
    case 'integer': return Flags.integer({...common, required: spec.required, default: spec.default, min: spec.min, max: spec.max}) as Interfaces.Flag<unknown>;
    case 'string': return spec.multiple
      ? Flags.string({...common, required: spec.required, multiple: true}) as Interfaces.Flag<unknown>
      : Flags.string({...common, required: spec.required, default: spec.default, options: spec.options ? [...spec.options] : undefined}) as Interfaces.Flag<unknown>;
  }
}

function oclifArg(spec: ArgSpec): Interfaces.Arg<unknown> {
  return Args.string({description: spec.description, required: spec.required}) as Interfaces.Arg<unknown>;
}

/** The flags oclif parses for a spec (also what the parser-equivalence test feeds oclif). */
export function oclifFlags(spec: AnyCommandSpec): Record<string, Interfaces.Flag<unknown>> {
  return Object.fromEntries(Object.entries(spec.flags as Record<string, FlagSpec>).map(([name, flag]) => [name, oclifFlag(flag)]));
}

export function oclifArgs(spec: AnyCommandSpec): Record<string, Interfaces.Arg<unknown>> {
  return Object.fromEntries(Object.entries((spec.args ?? {}) as Record<string, ArgSpec>).map(([name, arg]) => [name, oclifArg(arg)]));
}

export function oclifCommand(spec: AnyCommandSpec): Command.Class {
  return class extends Command {
    static override summary = spec.summary;
    static override description = spec.description;
    static override examples = spec.examples;
    static override flags = oclifFlags(spec);
    static override args = oclifArgs(spec);
    static override enableJsonFlag = spec.jsonFlag !== false;

    async run(): Promise<unknown> {
      const {flags, args} = await this.parse(this.constructor as Command.Class);
      const json = this.jsonEnabled();
      const {json: _json, ...ownFlags} = flags as Record<string, unknown>;
      return spec.run({flags: spec.jsonFlag === false ? flags : ownFlags, args}, commandOutput(json));
    }

    protected override async catch(error: Error & {exitCode?: number}): Promise<void> {
      if (error instanceof Errors.ExitError) throw error;
      // A parse failure is reported here; oclif need not warn that the arguments went unparsed.
      this.parsed = true;
      reportError(error, this.jsonEnabled());
    }

    /** Indented on a terminal, one line otherwise (JSON Lines when appended to a file). */
    override logJson(json: unknown): void {
      process.stdout.write(`${formatJson(json)}\n`);
    }
  };
}
