// What every row gets: parameters, the temp root, logging, cleanup.
import fs from 'node:fs';
import type {Params, RowName} from './params.js';

export class Context {
  constructor(readonly params: Params, readonly root: string, private readonly verbose: boolean) {}

  wants(name: RowName): boolean {
    return this.params.only.has(name);
  }

  log(row: string): (text: string) => void {
    return text => {
      if (this.verbose) process.stderr.write(`  [${row}] ${text}\n`);
    };
  }

  note(text: string): void {
    process.stderr.write(`${text}\n`);
  }

  /** Removes a row's fixture when done, unless --keep. */
  cleanup(dir: string): void {
    if (!this.params.keep) fs.rmSync(dir, {recursive: true, force: true});
  }
}
