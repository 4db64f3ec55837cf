import {Flags} from '@oclif/core';
import {MarklogCommand, siteFlag} from '../../src/cli/base-command.js';
import {Site} from '../../src/site/site.js';
import {createVolume, type CreatedVolume} from '../../src/volume/volume-admin.js';
import {parseCapacity} from '../../src/util/units.js';

export default class VolumeCreate extends MarklogCommand {
  static override summary = 'Create a volume (a sparse raw image) and print its LDEV number.';
  static override examples = [
    '# a 1 GiB volume for the database\n<%= config.bin %> volume create --site /srv/marklog/tokyo --size 1G',
    '# a spare volume for the pool (log volumes come from here)\n<%= config.bin %> volume create --site /srv/marklog/osaka --size 256M --pool',
  ];
  static override flags = {
    site: siteFlag,
    size: Flags.string({summary: 'Capacity: bytes or with a unit, a multiple of 512. 64K, 64M, 1G, 2T and 64MiB are powers of 1024; 1GB, 500MB are powers of 1000.', required: true}),
    pool: Flags.boolean({summary: 'Reserve the volume into the pool.', default: false}),
  };

  async run(): Promise<CreatedVolume> {
    const {flags} = await this.parse(VolumeCreate);
    const capacity = parseCapacity(flags.size);
    const volume = createVolume(Site.open(flags.site), capacity, flags.pool);
    this.warnAll(volume.warnings);
    this.log(String(volume.ldev));
    return volume;
  }
}
