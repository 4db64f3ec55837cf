// Verify what a log group's tables say about its base: a member R-VOL changed
// outside log apply (every restore refuses). It is cleared by a new base, started
// at the primary.
import type {Site} from '../site/site.js';
import type {LogGroupRow, Tables} from '../site/tables.js';
import type {Findings} from './finding.js';

/** A site path as a shell word: quoted only when it needs to be. */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/** The commands that give a group a new base at its primary: stop, bring each pair back to PAIR, start. */
export function restartCommands(primary: string, group: number, pairs: number[], stopFirst: boolean): string {
  const site = shellWord(primary);
  if (pairs.length === 0) {
    return `no pair of the group is left at the primary: create one (\`marklog pair create --site ${site} --mvol LDEV --rvol LDEV\`), then start the group on it (\`marklog log start --site ${site} --pairs N --group ${group}\`)`;
  }
  const steps = [
    ...(stopFirst ? [`\`marklog log stop --site ${site} --group ${group}\``] : []),
    ...pairs.map(pair => `\`marklog pair resync --site ${site} --pair ${pair}\``),
    `\`marklog log start --site ${site} --pairs ${pairs.join(',')} --group ${group}\``,
  ];
  return `start a new base: ${steps.join(', then ')}`;
}

export function checkLogState(_site: Site, tables: Tables, findings: Findings, onlyGroup?: number): void {
  for (const group of tables.groups) {
    if ((onlyGroup === undefined || onlyGroup === group.group) && !group.takenOver) checkGroupAtLog(tables, group, findings);
  }
}

function checkGroupAtLog(tables: Tables, group: LogGroupRow, findings: Findings): void {
  const where = `log group ${group.group}`;
  const primary = tables.peers.find(p => p.siteId === group.primarySite)?.remote ?? 'PRIMARY';
  // Members still served by their pair: the ones a new base can be started on.
  const paired = group.members.filter(m => tables.volumes.find(v => v.ldev === m.rvol)?.rvolOf?.pair === m.pair).map(m => m.pair);
  const fix = restartCommands(primary, group.group, paired, group.mode === 'LOG');
  for (const member of group.members) {
    const row = tables.volumes.find(v => v.ldev === member.rvol);
    if (!row || row.generation === group.memberGenerations[String(member.rvol)]) continue;
    const released = row.rvolOf?.pair !== member.pair;
    findings.error('base-changed', `${where}, R-VOL ${member.rvol}`,
      `the R-VOL changed outside log apply since the base was taken (${released ? `it is no longer the R-VOL of pair ${member.pair} and took a write` : 'a resync, a copy or a replicated write'}): its log no longer fits it, and restores of the group refuse with BASE_MISMATCH`,
      fix);
  }
}
