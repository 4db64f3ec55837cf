import {MarklogCommand, siteFlag} from '../../src/cli/base-command.js';
import {groupFlag} from '../../src/cli/flags.js';
import {renderMarks} from '../../src/cli/render-log.js';
import {Site} from '../../src/site/site.js';
import {listMarks, type MarkList} from '../../src/mark/mark-list.js';

export default class MarkListCommand extends MarklogCommand {
  static override summary = 'List marks: ID, time, application, log ID; at the primary, the host registry beside the remote log.';
  static override examples = ['# what can I restore to?\n<%= config.bin %> mark list --site /srv/marklog/osaka --group 1', '<%= config.bin %> mark list --site /srv/marklog/tokyo --json'];
  static override flags = {site: siteFlag, group: groupFlag(false)};

  async run(): Promise<{groups: MarkList[]}> {
    const {flags} = await this.parse(MarkListCommand);
    const groups = listMarks(Site.open(flags.site), flags.group);
    for (const group of groups) this.warnAll(group.warnings);
    if (!this.jsonEnabled()) this.log(groups.map(renderMarks).join('\n\n') || 'no marks');
    return {groups};
  }
}
