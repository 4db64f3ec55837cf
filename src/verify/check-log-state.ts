// Verify what a log group's tables say about its log and base: a write the log
// never received (the marks after it do not restore what the host wrote, and no
// new mark is taken) and a member R-VOL changed outside log apply (every restore
// refuses). Both are cleared the same way: a new base, started at the primary.
import {Journal} from '../log/journal.js';
import type {Site} from '../site/site.js';
import type {LogGap, LogGroupRow, Tables} from '../site/tables.js';
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

function lostWrite(gap: LogGap): string {
  return `a write of pair ${gap.pair} (M-VOL LDEV ${gap.mvol}) made on ${gap.time} never reached the log (${gap.reason})`;
}

export function checkLogState(site: Site, tables: Tables, findings: Findings, onlyGroup?: number): void {
  const wanted = (group: number) => onlyGroup === undefined || onlyGroup === group;
  for (const gap of tables.logGaps ?? []) {
    if (wanted(gap.group)) checkGapAtPrimary(site, tables, gap, findings);
  }
  for (const group of tables.groups) {
    if (wanted(group.group) && !group.takenOver) checkGroupAtLog(site, tables, group, findings);
  }
}

function checkGapAtPrimary(site: Site, tables: Tables, gap: LogGap, findings: Findings): void {
  const logging = tables.pairs.filter(p => p.logGroup === gap.group).map(p => p.pair);
  // Once the group stopped here and its log's site was told, that site reports it.
  if (logging.length === 0 && gap.afterLogId !== undefined) return;
  const pairs = logging.length > 0 ? logging : tables.pairs.some(p => p.pair === gap.pair) ? [gap.pair] : [];
  findings.error('log-gap', `log group ${gap.group}`,
    `${lostWrite(gap)}${gap.afterLogId === undefined ? ' and the remote has not been told yet' : ''}: no mark after it would restore what the host wrote, so marks are refused`,
    restartCommands(site.dir, gap.group, pairs, logging.length > 0));
}

function checkGroupAtLog(site: Site, tables: Tables, group: LogGroupRow, findings: Findings): void {
  const where = `log group ${group.group}`;
  // A peer reached over the wire (or not at all) has no directory here to name: the operator fills it in.
  const back = tables.peers.find(p => p.siteId === group.primarySite)?.remote ?? '';
  const primary = back.startsWith('/') ? back : 'PRIMARY';
  // Members still served by their pair: the ones a new base can be started on.
  const paired = group.members.filter(m => tables.volumes.find(v => v.ldev === m.rvol)?.rvolOf?.pair === m.pair).map(m => m.pair);
  const fix = restartCommands(primary, group.group, paired, group.mode === 'LOG');
  if (group.gap) {
    const {gap} = group;
    let after: number[] = [];
    try {
      for (const {record} of Journal.open(site, tables, group).records(undefined, {headersOnly: true})) {
        if (record.kind === 'mark' && record.logId > gap.afterLogId) after.push(record.markId);
      }
    } catch {
      // An unreadable log is check-log's finding; the gap is reported all the same.
    }
    const marks = after.length === 0 ? 'no mark sits after it, and none is taken until a new base'
      : `mark${after.length > 1 ? 's' : ''} ${after.join(', ')} sit${after.length > 1 ? '' : 's'} after it and do not restore what the host wrote (restore refuses them)`;
    findings.error('log-gap', where, `${lostWrite(gap)}; it belongs after log ID ${gap.afterLogId}: ${marks}`, fix);
  }
  for (const member of group.members) {
    const row = tables.volumes.find(v => v.ldev === member.rvol);
    if (!row || row.generation === group.memberGenerations[String(member.rvol)]) continue;
    const released = row.rvolOf?.pair !== member.pair;
    findings.error('base-changed', `${where}, R-VOL ${member.rvol}`,
      `the R-VOL changed outside log apply since the base was taken (${released ? `it is no longer the R-VOL of pair ${member.pair} and took a write` : 'a resync, a copy or a replicated write'}): its log no longer fits it, and restores of the group refuse with BASE_MISMATCH`,
      fix);
  }
}
