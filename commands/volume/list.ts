import {MarklogCommand, siteFlag} from '../../src/cli/base-command.js';
import {Site} from '../../src/site/site.js';
import {listVolumes} from '../../src/volume/volume-admin.js';
import {renderVolumes} from '../../src/cli/render.js';
import type {VolumeRow} from '../../src/site/tables.js';

export default class VolumeList extends MarklogCommand {
  static override summary = 'List the volume table of a site (Fig. 6).';
  static override examples = ['<%= config.bin %> volume list --site /srv/marklog/tokyo'];
  static override flags = {site: siteFlag};

  async run(): Promise<{volumes: VolumeRow[]}> {
    const {flags} = await this.parse(VolumeList);
    const volumes = listVolumes(Site.open(flags.site));
    this.log(renderVolumes(volumes));
    return {volumes};
  }
}
