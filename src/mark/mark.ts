// Mark (patent Figs. 18A, 18B, 19, 20): the host builds mark data (next mark ID,
// host time, application), sends it through the primary to the remote where it
// becomes a mark record, and records it in its registry only once acknowledged.
import {InvalidArgumentError, LogFullError, LogGapError, LogModeError, MarkIdReusedError, MarkIdsExhaustedError, TakenOverError, WrongRoleError} from '../errors.js';
import type {SiteLink} from '../site/link.js';
import {linkOf} from '../site/link-opener.js';
import {repairInflight} from '../io/inflight.js';
import {refuseMarkAfterGap, reportGapQuietly} from '../log/log-gap.js';
import {nowMicros} from '../log/journal.js';
import {MAX_APP_BYTES} from '../format/log-format.js';
import {LAST_MARK_ID} from '../format/host-marks-format.js';
import {REPAIR_HINT} from './host-registry.js';
import {RegistryWriter} from './registry-writer.js';
import type {Site} from '../site/site.js';
import type {Tables} from '../site/tables.js';

export interface MarkOptions {
  group?: number;
  app?: string;
}

export interface MarkResult {
  markId: number;
  logId: number;
  time: string;
  app: string;
  group: number;
  warnings: string[];
}

export function checkAppName(app: string): string {
  if (app.length === 0 || Buffer.byteLength(app, 'utf8') > MAX_APP_BYTES || /[\u0000-\u001f\u007f]/.test(app)) {
    throw new InvalidArgumentError(`application name must be 1 to ${MAX_APP_BYTES} bytes of printable text`);
  }
  return app;
}

/** After a takeover this site is no longer where marks mean anything: say so, not "start a log". */
const FAILBACK_HINT = 'hosts now write at the remote site; once this site is repaired, fail back with `marklog pair resync --reverse --pair N` (docs/TAKEOVER.md), and do not start a log here';

function takenOverHere(tables: Tables): TakenOverError | undefined {
  const taken = tables.pairs.filter(p => p.state === 'SSWS');
  if (taken.length === 0) return undefined;
  return new TakenOverError(`pair ${taken.map(p => p.pair).join(', ')} at ${tables.site.name} was taken over at the remote site (SSWS): no mark can be placed here`,
    FAILBACK_HINT.replace('--pair N', `--pair ${taken[0].pair}`));
}

/** The group the primary logs into: the one named, or the only one. */
export function loggingGroup(tables: Tables, group: number | undefined): number {
  if (tables.site.role === 'remote') {
    const primaries = tables.peers.map(p => `${p.name} (${JSON.stringify(p.remote)})`).join(', ');
    throw new WrongRoleError(`${tables.site.name} is a remote site: marks are issued at the primary${primaries ? ` ${primaries}` : ''}, where the host writes`,
      tables.peers.length === 1 ? `marklog mark --site ${JSON.stringify(tables.peers[0].remote)}` : 'run `marklog mark` with --site naming the primary site');
  }
  const groups = [...new Set(tables.pairs.filter(p => p.logGroup !== null).map(p => p.logGroup!))];
  if (!groups.includes(group ?? groups[0] ?? -1)) {
    const taken = takenOverHere(tables);
    if (taken) throw taken;
  }
  if (group !== undefined) {
    if (!groups.includes(group)) throw new LogModeError(`log group ${group} is not in log mode at ${tables.site.name}`, 'start it with `marklog log start`');
    return group;
  }
  if (groups.length === 1) return groups[0];
  if (groups.length === 0) throw new LogModeError(`no log group is in log mode at ${tables.site.name}`, 'start one with `marklog log start`');
  throw new InvalidArgumentError(`site ${tables.site.name} logs groups ${groups.join(', ')}; name one with --group`);
}

export async function issueMark(site: Site, options: MarkOptions): Promise<MarkResult> {
  const app = checkAppName(options.app ?? 'manual');
  return site.lock.runAsync(async () => {
    // A write killed in flight goes to the log before any mark that could cover it.
    await repairInflight(site);
    const tables = site.tables();
    const group = loggingGroup(tables, options.group);
    await reportGapQuietly(site, group, () => linkOf(site, tables));
    refuseIfWritesWereDropped(tables, group);
    refuseMarkAfterGap(tables, group);
    const registry = RegistryWriter.open(site.dir);
    try {
      let next = registry.next(group);
      const send = async (from: 'registry' | 'log'): Promise<{markId: number; markTime: number; result: Awaited<ReturnType<SiteLink['appendToLog']>>}> => {
        const markId = next;
        // Refused before anything is written: the registry could not record it as spent.
        if (markId > LAST_MARK_ID) throw noMarkIdLeft(tables, group, markId, from);
        // The ID is spent before it is sent: a crash after the remote acknowledged it
        // leaves a gap in the host's numbering, never two marks with one ID.
        next = markId + 1;
        registry.spend(group, next);
        const markTime = nowMicros();
        return {markId, markTime, result: await (await linkOf(site, tables)).appendToLog(group, [{kind: 'mark', markId, markTime, app}])};
      };
      let sent;
      try {
        sent = await send('registry');
      } catch (error) {
        if (error instanceof TakenOverError && !error.hint) error.hint = FAILBACK_HINT.replace('--pair N', `--pair ${tables.pairs.find(p => p.logGroup === group)?.pair ?? 'N'}`);
        // The log remembers every mark ID it took; a registry that fell behind catches up once.
        if (!(error instanceof MarkIdReusedError)) throw error;
        next = error.nextFree;
        sent = await send('log');
      }
      const {markId, markTime, result} = sent;
      const time = new Date(markTime / 1000).toISOString();
      const logId = result.appended[0].logId;
      registry.record(group, {markId, time, app, logId});
      return {markId, logId, time, app, group, warnings: [...result.warnings, ...registry.compactIfDue()]};
    } finally {
      registry.close();
    }
  });
}

/**
 * §6.3: a `spent` event states at most 2^53 − 1, so 2^53 − 2 is the last mark ID a
 * group can take. Where the next ID came from decides what the operator can do.
 */
function noMarkIdLeft(tables: Tables, group: number, markId: number, from: 'registry' | 'log'): MarkIdsExhaustedError {
  const pairs = tables.pairs.filter(p => p.logGroup === group).map(p => p.pair).join(',');
  const newGroup = `stop the group (\`marklog log stop --group ${group}\`), resync its pairs and log them in a new group (\`marklog log start --pairs ${pairs}\`)`;
  const cause = from === 'registry' ? `the host mark registry's next mark ID is ${markId}` : `its log already holds mark ${markId - 1}`;
  return new MarkIdsExhaustedError(`log group ${group} has no mark ID left: ${cause}, and no mark ID above ${LAST_MARK_ID} (2^53 − 2) can be recorded`,
    from === 'registry' ? `if the group's marks are far below that, the registry is damaged: ${REPAIR_HINT}; otherwise ${newGroup}` : newGroup);
}

/**
 * A mark promises "restore here and you get what the host had". Once a member
 * pair fell out of log mode (PSUE), its later writes are not in the log, so no
 * new mark could keep that promise.
 */
function refuseIfWritesWereDropped(tables: Tables, group: number): void {
  const dropped = tables.pairs.find(p => p.logGroup === group && p.state !== 'PSUS');
  if (!dropped) return;
  const hint = 'relieve the log if needed, resync the pairs, then `marklog log start` a new base';
  if (dropped.suspendedBy === 'LOG_FULL') {
    throw new LogFullError(`log group ${group} is full: pair ${dropped.pair} could not log a write, so a mark now would not be restorable`, hint);
  }
  throw new LogGapError(`pair ${dropped.pair} of log group ${group} is ${dropped.state}${dropped.suspendedBy ? ` (${dropped.suspendedBy})` : ''}: its writes are no longer logged, so a mark now would not be restorable`, hint);
}
