// Verify what a recovery cut short leaves behind: a takeover that recorded its
// intent and did not finish (the group neither logs nor is taken over), and the
// staging images of restores onto the M-VOLs whose process is gone (full-size
// files nobody will read again).
import {abandonedStaging} from '../restore/staging.js';
import {describeIntent, finishTakeoverCommand} from '../takeover/intent.js';
import type {Site} from '../site/site.js';
import type {Tables} from '../site/tables.js';
import type {Findings} from './finding.js';

function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll('\'', '\'\\\'\'')}'`;
}

export function checkRecovery(site: Site, tables: Tables, findings: Findings, onlyGroup?: number): void {
  for (const group of tables.groups) {
    if (!group.takingOver || (onlyGroup !== undefined && group.group !== onlyGroup)) continue;
    findings.error('takeover-unfinished', `log group ${group.group}`,
      `${describeIntent(group)}: its R-VOLs may be part-way to the mark, and the primary's writes and marks are refused until it ends`,
      `finish it: \`${finishTakeoverCommand(site.dir, group)}\``);
  }
  for (const staging of abandonedStaging(site.dir)) {
    findings.warning('restore-staging', staging.file,
      `a restore onto the M-VOLs (process ${staging.pid}, gone) left its staging image: ${staging.size} bytes, ${staging.allocated} on disk; the next \`marklog restore\` at this site also clears it`,
      `remove it: \`rm -- ${shellWord(staging.file)}\``);
  }
}
