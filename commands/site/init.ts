import {Args, Flags} from '@oclif/core';
import {MarklogCommand} from '../../src/cli/base-command.js';
import {initSite, type SiteSummary} from '../../src/site/site-admin.js';

export default class SiteInit extends MarklogCommand {
  static override summary = 'Create a primary or remote site in an empty directory.';
  static override description = 'A site is a directory holding the management tables, the volume images and the pair bitmaps of one storage system.';
  static override examples = [
    '# the production side\n<%= config.bin %> site init /srv/marklog/tokyo --role primary',
    '# the recovery side, with a name of its own\n<%= config.bin %> site init /srv/marklog/osaka --role remote --name osaka',
  ];
  static override args = {dir: Args.string({description: 'Directory for the new site (created if missing, must be empty).', required: true})};
  static override flags = {
    role: Flags.string({summary: 'primary (hosts write here) or remote (R-VOLs and logs live here).', options: ['primary', 'remote'], required: true}),
    name: Flags.string({summary: 'Site name shown in tables (default: the directory name).'}),
  };

  async run(): Promise<SiteSummary> {
    const {args, flags} = await this.parse(SiteInit);
    const site = initSite({dir: args.dir, role: flags.role, name: flags.name});
    this.log(`created ${site.role} site ${site.name} at ${site.dir}`);
    return site;
  }
}
