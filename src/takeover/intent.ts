// A takeover is several steps (bring the R-VOLs to the mark, drop the rest of the
// log, make the R-VOLs writable). It records what it decided before the first of
// them; until its last step clears that record the group is neither logging nor
// taken over, so every command that would read or extend its log refuses and
// names the command that finishes it. Kept free of other imports: the log, the
// restore and the verify code all ask it.
import {TakeoverUnfinishedError} from '../errors.js';
import type {LogGroupRow} from '../site/tables.js';

function shellWord(text: string): string {
  return /^[\w./:@+-]+$/.test(text) ? text : `'${text.replaceAll('\'', '\'\\\'\'')}'`;
}

/** The command that finishes the takeover recorded in `group`. */
export function finishTakeoverCommand(siteDir: string, group: LogGroupRow): string {
  const markId = group.takingOver?.markId ?? null;
  return `marklog takeover --site ${shellWord(siteDir)} --group ${group.group}${markId === null ? '' : ` --mark ${markId}`}`;
}

export function describeIntent(group: LogGroupRow): string {
  const intent = group.takingOver!;
  return `a takeover of log group ${group.group} at ${intent.markId === null ? 'the end of its log' : `mark ${intent.markId}`} began ${intent.since} and did not finish`;
}

/** Refuses `doing` (e.g. "a restore") on a group whose takeover was cut short. */
export function refuseUnfinishedTakeover(siteDir: string, group: LogGroupRow, doing: string): void {
  if (!group.takingOver) return;
  throw new TakeoverUnfinishedError(`${describeIntent(group)}; ${doing} waits until it has`,
    `finish it with \`${finishTakeoverCommand(siteDir, group)}\``);
}
