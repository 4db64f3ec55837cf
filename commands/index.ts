// Every command, by the words that name it, and the module under commands/ that
// holds it. A command's module is imported only when it runs: scripts/bundle.mjs
// makes one start-up bundle per entry (docs/PERFORMANCE.md), and oclif reads the
// same table through commands/oclif.ts.
import type {CommandTable} from '../src/cli/dispatch.js';

export const COMMAND_MODULES: Readonly<Record<string, string>> = {
  'agent': 'agent',
  'demo': 'demo',
  'heartbeat serve': 'heartbeat/serve',
  'heartbeat watch': 'heartbeat/watch',
  'log apply': 'log/apply',
  'log config': 'log/config',
  'log export': 'log/export',
  'log extend': 'log/extend',
  'log import': 'log/import',
  'log start': 'log/start',
  'log status': 'log/status',
  'log stop': 'log/stop',
  'mark list': 'mark/list',
  'mark': 'mark/index',
  'pair create': 'pair/create',
  'pair delete': 'pair/delete',
  'pair display': 'pair/display',
  'pair resync': 'pair/resync',
  'pair suspend': 'pair/suspend',
  'read': 'read',
  'restore': 'restore',
  'serve': 'serve',
  'site init': 'site/init',
  'site link': 'site/link',
  'site show': 'site/show',
  'takeover': 'takeover',
  'verify': 'verify',
  'volume create': 'volume/create',
  'volume import': 'volume/import',
  'volume list': 'volume/list',
  'write': 'write',
};

export const COMMANDS: CommandTable = Object.fromEntries(Object.entries(COMMAND_MODULES)
  .map(([id, module]) => [id, async () => import(`./${module}.js`)]));
