import {flag, arg, defineCommand} from '../../src/cli/command-spec.js';
import {initSite, type SiteSummary} from '../../src/site/site-admin.js';

export default defineCommand({
  summary: 'Create a primary or remote site in an empty directory.',
  description: 'A site is a directory holding the management tables, the volume images and the pair bitmaps of one storage system.',
  examples: [
    '# the production side\n<%= config.bin %> site init /srv/marklog/tokyo --role primary',
    '# the recovery side, with a name of its own\n<%= config.bin %> site init /srv/marklog/osaka --role remote --name osaka',
  ],
  args: {dir: arg.string({description: 'Directory for the new site (created if missing, must be empty).', required: true})},
  flags: {
    role: flag.string({summary: 'primary (hosts write here) or remote (R-VOLs and logs live here).', options: ['primary', 'remote'], required: true}),
    name: flag.string({summary: 'Site name shown in tables (default: the directory name).'}),
  },
  run({args, flags}, out): SiteSummary {
    const site = initSite({dir: args.dir, role: flags.role, name: flags.name});
    out.log(`created ${site.role} site ${site.name} at ${site.dir}`);
    return site;
  },
});
