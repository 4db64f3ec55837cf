// Verify what a recovery cut short leaves behind: a takeover that recorded its
// intent and did not finish (the group neither logs nor is taken over).
import {describeIntent, finishTakeoverCommand} from '../takeover/intent.js';
import type {Site} from '../site/site.js';
import type {Tables} from '../site/tables.js';
import type {Findings} from './finding.js';

export function checkRecovery(site: Site, tables: Tables, findings: Findings, onlyGroup?: number): void {
  for (const group of tables.groups) {
    if (!group.takingOver || (onlyGroup !== undefined && group.group !== onlyGroup)) continue;
    findings.error('takeover-unfinished', `log group ${group.group}`,
      `${describeIntent(group)}: its R-VOLs may be part-way to the mark, and the primary's writes and marks are refused until it ends`,
      `finish it: \`${finishTakeoverCommand(site.dir, group)}\``);
  }
}
