import {defineCommand} from '../../src/cli/command-spec.js';
import {siteFlag} from '../../src/cli/flags.js';
import {Site} from '../../src/site/site.js';
import {listVolumes} from '../../src/volume/volume-admin.js';
import {renderVolumes} from '../../src/cli/render.js';
import type {VolumeRow} from '../../src/site/tables.js';

export default defineCommand({
  summary: 'List the volume table of a site (Fig. 6).',
  examples: ['<%= config.bin %> volume list --site /srv/marklog/tokyo'],
  flags: {site: siteFlag},
  run({flags}, out): {volumes: VolumeRow[]} {
    const volumes = listVolumes(Site.open(flags.site));
    out.log(renderVolumes(volumes));
    return {volumes};
  },
});
