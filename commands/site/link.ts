import {flag, defineCommand} from '../../src/cli/command-spec.js';
import {siteFlag} from '../../src/cli/flags.js';
import {linkSites} from '../../src/site/site-admin.js';
import type {LinkRow} from '../../src/site/tables.js';

export default defineCommand({
  summary: 'Link a primary site to the remote site it replicates to.',
  examples: ['# replicate tokyo to osaka\n<%= config.bin %> site link --site /srv/marklog/tokyo --remote /srv/marklog/osaka'],
  flags: {
    site: siteFlag,
    remote: flag.string({summary: 'Directory of the remote site.', required: true}),
  },
  async run({flags}, out): Promise<LinkRow> {
    const link = await linkSites(flags.site, flags.remote);
    out.log(`linked to remote site ${link.name} at ${link.remote}`);
    return link;
  },
});
