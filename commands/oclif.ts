// oclif's view of the command table (package.json, oclif.commands, strategy
// "explicit"): loaded only for help and for input the start-up path leaves to it.
import {oclifCommand} from '../src/cli/oclif-command.js';
import {COMMANDS} from './index.js';

export default Object.fromEntries(await Promise.all(Object.entries(COMMANDS)
  .map(async ([id, load]) => [id.replaceAll(' ', ':'), oclifCommand((await load()).default)])));
