// A bad network between the two machines of remote-machine.ts, made on the veth pair
// itself, each rule in the namespace that owns its end (nftables and qdiscs are per
// namespace, so the tests' own namespace is never touched): a partition, random loss
// and a rate limit. netem is absent from this kernel (REAL-CLIENTS.md §3.3), so
// latency is a userspace proxy instead (delay-proxy.ts).
// - partition('drop'): every packet arriving on either end is dropped on input, so
//   neither sender is told: a connection in flight stalls, a connect times out, and
//   after heal() TCP's retransmissions carry the stalled bytes on.
// - stall(port): partition('drop') for the TCP connections with that port at the
//   primary's end only; other connections, new ones included, pass.
// - partition('reject'): every TCP segment either end sends on the link is answered
//   locally with a reset (anything else with ICMP admin-prohibited): a connect is
//   refused at once, a connection in flight is reset.
// - randomLoss(percent): nftables `numgen random` drops that share of the packets
//   arriving on each end (each direction). With GSO a packet may be one 64 KiB skb.
// - rateLimit(bytesPerSecond): a tbf qdisc on each end's egress (each direction).
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type {ExecutionContext} from 'ava';
import type {LinkEnd, RemoteMachine} from './remote-machine.js';

export interface FaultCounts {
  /** Packets partition() dropped or rejected, both ends summed. */
  partitioned: number;
  /** Packets randomLoss() dropped, both ends summed. */
  lost: number;
}

export interface LinkFaults {
  partition(how?: 'drop' | 'reject'): void;
  /**
   * A partition of one TCP connection: every packet of the connections whose end at the
   * primary has this port is dropped on input at both ends, while new connections pass.
   * heal() ends it.
   */
  stall(primaryPort: number): void;
  /** Ends the partition; loss and rate limit stay. */
  heal(): void;
  /** 0 ends the loss; hundredths of a percent are honoured. */
  randomLoss(percent: number): void;
  rateLimit(bytesPerSecond: number): void;
  /** Every fault gone: the nft table and the qdiscs deleted on both ends. */
  clear(): void;
  counts(): FaultCounts;
  /** The rules and qdiscs in force on both ends, as nft and tc print them (for an error message). */
  describe(): string;
}

const TABLE = 'marklog_link';

/**
 * nftables' nft. Not just `nft`: npm and npx put node_modules/.bin first on PATH, and
 * ava brings @vercel/nft, whose `nft` (a file tracer) prints an error and exits 0.
 */
export const NFT = (process.env.PATH ?? '').split(':').filter(dir => dir !== '' && !dir.includes('node_modules'))
  .map(dir => path.join(dir, 'nft')).find(file => fs.existsSync(file)) ?? '/usr/sbin/nft';

function inNamespace(end: LinkEnd, argv: string[], input = ''): {code: number; stdout: string; stderr: string} {
  const result = spawnSync('ip', ['netns', 'exec', end.ns, ...argv], {input, encoding: 'utf8'});
  return {code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr};
}

function must(end: LinkEnd, argv: string[], input = ''): string {
  const result = inNamespace(end, argv, input);
  if (result.code !== 0) throw new Error(`${argv.join(' ')} in ${end.ns} exited ${result.code}: ${result.stderr}\n${input}`);
  return result.stdout;
}

/** The table and its chains, made if missing (nft's `add` of what exists is no error). */
function chains(): string {
  return [
    `add table inet ${TABLE}`,
    `add chain inet ${TABLE} partition_in { type filter hook input priority -10; policy accept; }`,
    `add chain inet ${TABLE} partition_out { type filter hook output priority -10; policy accept; }`,
    `add chain inet ${TABLE} loss_in { type filter hook input priority 0; policy accept; }`,
  ].join('\n');
}

function nft(end: LinkEnd, commands: string[]): void {
  must(end, [NFT, '-f', '-'], [chains(), ...commands].join('\n') + '\n');
}

/** The packets counted by the rules of one chain. */
function counted(end: LinkEnd, chain: string): number {
  const listed = inNamespace(end, [NFT, '-j', 'list', 'chain', 'inet', TABLE, chain]);
  if (listed.code !== 0) return 0;
  const items = (JSON.parse(listed.stdout) as {nftables: {rule?: {expr: {counter?: {packets: number}}[]}}[]}).nftables;
  return items.flatMap(item => item.rule?.expr ?? []).reduce((sum, expr) => sum + (expr.counter?.packets ?? 0), 0);
}

export function linkFaults(t: ExecutionContext, machine: RemoteMachine): LinkFaults {
  const ends = [machine, machine.primary];
  const faults: LinkFaults = {
    partition(how = 'drop') {
      for (const end of ends) {
        const rules = how === 'drop'
          ? [`add rule inet ${TABLE} partition_in iifname "${end.device}" counter drop`]
          : [`add rule inet ${TABLE} partition_out oifname "${end.device}" meta l4proto tcp counter reject with tcp reset`,
            `add rule inet ${TABLE} partition_out oifname "${end.device}" counter reject with icmpx type admin-prohibited`];
        nft(end, [`flush chain inet ${TABLE} partition_in`, `flush chain inet ${TABLE} partition_out`, ...rules]);
      }
    },
    stall(primaryPort) {
      const port = Math.trunc(primaryPort);
      if (!(port > 0 && port < 65536)) throw new RangeError(`port ${primaryPort}`);
      // At the remote the primary's port is the source; at the primary, the destination.
      nft(machine, [`add rule inet ${TABLE} partition_in iifname "${machine.device}" tcp sport ${port} counter drop`]);
      nft(machine.primary, [`add rule inet ${TABLE} partition_in iifname "${machine.primary.device}" tcp dport ${port} counter drop`]);
    },
    heal() {
      for (const end of ends) nft(end, [`flush chain inet ${TABLE} partition_in`, `flush chain inet ${TABLE} partition_out`]);
    },
    randomLoss(percent) {
      if (!(percent >= 0 && percent <= 100)) throw new RangeError(`loss of ${percent} %`);
      const inTenThousand = Math.round(percent * 100);
      for (const end of ends) {
        nft(end, [`flush chain inet ${TABLE} loss_in`,
          ...(inTenThousand === 0 ? [] : [`add rule inet ${TABLE} loss_in iifname "${end.device}" numgen random mod 10000 < ${inTenThousand} counter drop`])]);
      }
    },
    rateLimit(bytesPerSecond) {
      // A bucket of at least 32 KiB (a tenth of a second's worth above that): tbf needs one at least an MTU, better more than rate/HZ.
      const burst = Math.max(32 * 1024, Math.round(bytesPerSecond / 10));
      for (const end of ends) {
        must(end, ['tc', 'qdisc', 'replace', 'dev', end.device, 'root', 'tbf', 'rate', `${Math.round(bytesPerSecond * 8)}bit`, 'burst', String(burst), 'latency', '200ms']);
      }
    },
    clear() {
      for (const end of ends) {
        inNamespace(end, [NFT, 'delete', 'table', 'inet', TABLE]);
        // veth's default is noqueue: deleting the root qdisc when none was added only fails, harmlessly.
        inNamespace(end, ['tc', 'qdisc', 'del', 'dev', end.device, 'root']);
      }
    },
    counts() {
      const sum = (chainNames: string[]) => ends.reduce((total, end) => total + chainNames.reduce((n, chain) => n + counted(end, chain), 0), 0);
      return {partitioned: sum(['partition_in', 'partition_out']), lost: sum(['loss_in'])};
    },
    describe() {
      return ends.map(end => `${end.ns} (${end.device}):\n${inNamespace(end, [NFT, 'list', 'ruleset']).stdout}${inNamespace(end, ['tc', 'qdisc', 'show', 'dev', end.device]).stdout}`).join('\n');
    },
  };
  // The namespaces' deletion would take all of it away too; this also covers a network the test keeps.
  t.teardown(() => faults.clear());
  return faults;
}
