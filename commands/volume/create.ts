import {flag, defineCommand} from '../../src/cli/command-spec.js';
import {siteFlag} from '../../src/cli/flags.js';
import {Site} from '../../src/site/site.js';
import {createVolume, type CreatedVolume} from '../../src/volume/volume-admin.js';
import {parseCapacity} from '../../src/util/units.js';

export default defineCommand({
  summary: 'Create a volume (a sparse raw image) and print its LDEV number.',
  examples: [
    '# a 1 GiB volume for the database\n<%= config.bin %> volume create --site /srv/marklog/tokyo --size 1G',
    '# a spare volume for the pool (log volumes come from here)\n<%= config.bin %> volume create --site /srv/marklog/osaka --size 256M --pool',
  ],
  flags: {
    site: siteFlag,
    size: flag.string({summary: 'Capacity: bytes or with a unit, a multiple of 512. 64K, 64M, 1G, 2T and 64MiB are powers of 1024; 1GB, 500MB are powers of 1000.', required: true}),
    pool: flag.boolean({summary: 'Reserve the volume into the pool.'}),
  },
  run({flags}, out): CreatedVolume {
    const capacity = parseCapacity(flags.size);
    const volume = createVolume(Site.open(flags.site), capacity, flags.pool);
    out.warnAll(volume.warnings);
    out.log(String(volume.ldev));
    return volume;
  },
});
