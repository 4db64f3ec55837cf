// Files in volumes/ that no volume row names (see src/volume/orphan.ts for how
// they arise and which ones marklog may take back).
import {orphanImages} from '../volume/orphan.js';
import type {Site} from '../site/site.js';
import type {Tables} from '../site/tables.js';
import type {Findings} from './finding.js';

export function checkOrphanImages(site: Site, tables: Tables, findings: Findings): void {
  for (const orphan of orphanImages(site, tables)) {
    const reclaimable = orphan.abandoned && orphan.ldev !== undefined && orphan.ldev >= tables.next.ldev;
    if (reclaimable) {
      findings.warning('orphan-image', orphan.name, `${orphan.size} bytes, never written, named by no volume row: left by an interrupted \`volume create\``,
        `nothing is lost: the next \`marklog volume create --site ${JSON.stringify(site.dir)}\` takes it back (or delete it)`);
    } else if (orphan.abandoned) {
      findings.warning('orphan-image', orphan.name, `${orphan.size} bytes, never written, named by no volume row`,
        `it holds no data: delete it (\`marklog volume create\` will not reuse this name)`);
    } else {
      findings.error('orphan-image', orphan.name, `${orphan.size} bytes holding data, named by no volume row (tables restored from an older copy, or a file put there by hand?)`,
        `if it is a volume you need, adopt it with \`marklog volume import --site ${JSON.stringify(site.dir)} ${JSON.stringify(orphan.file)}\`; otherwise move it out of the site's volumes directory`);
    }
  }
}
