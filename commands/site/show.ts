import {MarklogCommand, siteFlag} from '../../src/cli/base-command.js';
import {showSite, type SiteView} from '../../src/site/site-admin.js';
import {renderSite} from '../../src/cli/render.js';

export default class SiteShow extends MarklogCommand {
  static override summary = 'Show a site: its identity, link, volume table and pair table.';
  static override examples = ['<%= config.bin %> site show --site /srv/marklog/tokyo', '# for scripts\n<%= config.bin %> site show --site /srv/marklog/tokyo --json'];
  static override flags = {site: siteFlag};

  async run(): Promise<SiteView> {
    const {flags} = await this.parse(SiteShow);
    const view = showSite(flags.site);
    this.log(renderSite(view));
    return view;
  }
}
