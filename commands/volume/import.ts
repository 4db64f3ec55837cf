import {Args, Flags} from '@oclif/core';
import {MarklogCommand, siteFlag} from '../../src/cli/base-command.js';
import {Site} from '../../src/site/site.js';
import {importVolume, type VolumeSummary} from '../../src/volume/volume-admin.js';

export default class VolumeImport extends MarklogCommand {
  static override summary = 'Adopt an existing raw image file as a volume, where it lies.';
  static override examples = ['# adopt a disk image made elsewhere\n<%= config.bin %> volume import /images/db.raw --site /srv/marklog/tokyo'];
  static override args = {path: Args.string({description: 'Raw image file; its size (a multiple of 512) becomes the capacity.', required: true})};
  static override flags = {
    site: siteFlag,
    pool: Flags.boolean({summary: 'Reserve the volume into the pool.', default: false}),
  };

  async run(): Promise<VolumeSummary> {
    const {args, flags} = await this.parse(VolumeImport);
    const volume = importVolume(Site.open(flags.site), args.path, flags.pool);
    this.log(String(volume.ldev));
    return volume;
  }
}
