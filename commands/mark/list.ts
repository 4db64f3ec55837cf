import {defineCommand} from '../../src/cli/command-spec.js';
import {siteFlag, groupFlag} from '../../src/cli/flags.js';
import {renderMarks} from '../../src/cli/render-log.js';
import {Site} from '../../src/site/site.js';
import {listMarks, type MarkList} from '../../src/mark/mark-list.js';

export default defineCommand({
  summary: 'List marks: ID, time, application, log ID; at the primary, the host registry beside the remote log.',
  examples: ['# what can I restore to?\n<%= config.bin %> mark list --site /srv/marklog/osaka --group 1', '<%= config.bin %> mark list --site /srv/marklog/tokyo --json'],
  flags: {site: siteFlag, group: groupFlag(false)},
  async run({flags}, out): Promise<{groups: MarkList[]}> {
    const groups = await listMarks(Site.open(flags.site), flags.group);
    for (const group of groups) out.warnAll(group.warnings);
    if (!out.json) out.log(groups.map(renderMarks).join('\n\n') || 'no marks');
    return {groups};
  },
});
