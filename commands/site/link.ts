import {Flags} from '@oclif/core';
import {MarklogCommand, siteFlag} from '../../src/cli/base-command.js';
import {linkSites} from '../../src/site/site-admin.js';
import type {LinkRow} from '../../src/site/tables.js';

export default class SiteLink extends MarklogCommand {
  static override summary = 'Link a primary site to the remote site it replicates to.';
  static override examples = ['# replicate tokyo to osaka\n<%= config.bin %> site link --site /srv/marklog/tokyo --remote /srv/marklog/osaka'];
  static override flags = {
    site: siteFlag,
    remote: Flags.string({summary: 'Directory of the remote site.', required: true}),
  };

  async run(): Promise<LinkRow> {
    const {flags} = await this.parse(SiteLink);
    const link = linkSites(flags.site, flags.remote);
    this.log(`linked to remote site ${link.name} at ${link.remote}`);
    return link;
  }
}
