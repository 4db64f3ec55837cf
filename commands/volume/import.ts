import {flag, arg, defineCommand} from '../../src/cli/command-spec.js';
import {siteFlag} from '../../src/cli/flags.js';
import {Site} from '../../src/site/site.js';
import {importVolume, type VolumeSummary} from '../../src/volume/volume-admin.js';

export default defineCommand({
  summary: 'Adopt an existing raw image file as a volume, where it lies.',
  examples: ['# adopt a disk image made elsewhere\n<%= config.bin %> volume import /images/db.raw --site /srv/marklog/tokyo'],
  args: {path: arg.string({description: 'Raw image file; its size (a multiple of 512) becomes the capacity.', required: true})},
  flags: {
    site: siteFlag,
    pool: flag.boolean({summary: 'Reserve the volume into the pool.'}),
  },
  async run({args, flags}, out): Promise<VolumeSummary> {
    const volume = await importVolume(Site.open(flags.site), args.path, flags.pool);
    out.log(String(volume.ldev));
    return volume;
  },
});
