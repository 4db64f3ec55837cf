// What the heartbeat commands do around the protocol: serve until told to stop,
// and watch with the operator's choice of what happens when the host is lost.
import {spawn} from 'node:child_process';
import readline from 'node:readline';
import {InvalidArgumentError} from '../errors.js';
import {Site} from '../site/site.js';
import {parseHeartbeatPath} from './heartbeat-path.js';
import {serveHeartbeat, type HeartbeatServer} from './heartbeat-serve.js';
import {watchHeartbeat, type WatchEvent} from './heartbeat-watch.js';
import {describePlan, planTakeover, takeover, type TakeoverOptions, type TakeoverResult} from './takeover.js';

export interface ServeRequest {
  listen: string[];
  intervalMs: number;
  name: string;
}

/** Serves until SIGINT or SIGTERM; `onReady` hears the addresses actually listened on. */
export async function serveUntilSignal(request: ServeRequest, onReady: (server: HeartbeatServer) => void): Promise<void> {
  if (request.listen.length === 0) throw new InvalidArgumentError('give at least one --listen host:port or file path');
  const server = await serveHeartbeat({paths: request.listen.map(parseHeartbeatPath), intervalMs: request.intervalMs, name: request.name});
  onReady(server);
  await new Promise<void>(resolve => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
}

export type LossAction =
  | {kind: 'report'}
  | {kind: 'command'; command: string}
  | {kind: 'takeover'; site: string; takeover: TakeoverOptions}
  | {kind: 'ask'; site: string; takeover: TakeoverOptions};

export interface WatchRequest {
  main: string;
  alternate?: string;
  intervalMs: number;
  misses: number;
  maxTimeMs?: number;
  exitOnLoss: boolean;
  action: LossAction;
}

export interface WatchReport {
  lost: boolean;
  takeover?: TakeoverResult;
  commandExitCode?: number | null;
}

export type WatchLine = WatchEvent | {state: 'ACTION'; time: string; message: string; takeover?: TakeoverResult};

/** The prompt says exactly what will happen: the mark, its time and application, and what is dropped. */
export function takeoverQuestion(site: string, options: TakeoverOptions): string {
  try {
    const plan = describePlan(planTakeover(Site.open(site), options));
    return `${plan[0].toUpperCase()}${plan.slice(1)} at ${site} now?`;
  } catch (error) {
    return `Take over log group ${options.group} at ${site} now? (it cannot be planned: ${(error as Error).message})`;
  }
}

function ask(question: string): Promise<boolean> {
  const rl = readline.createInterface({input: process.stdin, output: process.stderr});
  return new Promise(resolve => rl.question(question, answer => {
    rl.close();
    resolve(/^y(es)?$/i.test(answer.trim()));
  }));
}

function runCommand(command: string, event: {group?: number}): Promise<number | null> {
  return new Promise(resolve => {
    const child = spawn(command, {shell: true, stdio: 'inherit', env: {...process.env, MARKLOG_HEARTBEAT: 'LOST', ...(event.group ? {MARKLOG_GROUP: String(event.group)} : {})}});
    child.on('exit', code => resolve(code));
    child.on('error', () => resolve(null));
  });
}

export async function watchAndAct(request: WatchRequest, print: (line: WatchLine) => void): Promise<WatchReport> {
  const report: WatchReport = {lost: false};
  const note = (message: string, takeoverResult?: TakeoverResult) => print({state: 'ACTION', time: new Date().toISOString(), message, ...(takeoverResult ? {takeover: takeoverResult} : {})});
  const doTakeover = (site: string, options: TakeoverOptions) => {
    report.takeover = takeover(Site.open(site), options);
    note(`took over log group ${options.group} at ${site}${report.takeover.markId === null ? '' : ` at mark ${report.takeover.markId}`}`, report.takeover);
  };
  const action = request.action;
  const {lost} = await watchHeartbeat({
    main: parseHeartbeatPath(request.main),
    alternate: request.alternate === undefined ? undefined : parseHeartbeatPath(request.alternate),
    intervalMs: request.intervalMs,
    misses: request.misses,
    maxTimeMs: request.maxTimeMs,
    exitOnLoss: request.exitOnLoss,
    onEvent: print,
    async onLoss() {
      if (action.kind === 'command') {
        report.commandExitCode = await runCommand(action.command, {});
        note(`ran ${action.command}: exit ${report.commandExitCode}`);
      } else if (action.kind === 'takeover') {
        doTakeover(action.site, action.takeover);
      } else if (action.kind === 'ask') {
        if (await ask(`Production host lost on every path. ${takeoverQuestion(action.site, action.takeover)} [y/N] `)) doTakeover(action.site, action.takeover);
        else note('takeover declined; still watching');
      }
    },
  });
  report.lost = lost;
  return report;
}
