import {defineCommand} from '../../src/cli/command-spec.js';
import {siteFlag} from '../../src/cli/flags.js';
import {showSite, type SiteView} from '../../src/site/site-admin.js';
import {renderSite} from '../../src/cli/render.js';

export default defineCommand({
  summary: 'Show a site: its identity, link, volume table and pair table.',
  examples: ['<%= config.bin %> site show --site /srv/marklog/tokyo', '# for scripts\n<%= config.bin %> site show --site /srv/marklog/tokyo --json'],
  flags: {site: siteFlag},
  run({flags}, out): SiteView {
    const view = showSite(flags.site);
    out.log(renderSite(view));
    return view;
  },
});
