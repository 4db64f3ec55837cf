// Other hosts on one machine, for the tests that need a client from an address that
// is not this machine's loopback: network namespaces joined by veth pairs. The server
// runs in a `server` namespace with one link to each client namespace, so each
// client comes from an address of its own. Nothing is added to the namespace the
// tests run in; deleting the namespaces at teardown removes the links with them.
import {spawnSync} from 'node:child_process';
import type {ExecutionContext} from 'ava';

export interface Host {
  /** The namespace's name. */
  ns: string;
  /** A command prefix that runs a program in it. */
  wrap: string[];
}

export interface Network {
  server: Host;
  /** Each client host, with its own address and the server's address on its link. */
  clients: (Host & {address: string; serverAddress: string})[];
}

let made = 0;

function ip(args: string[]): void {
  const result = spawnSync('ip', args, {encoding: 'utf8'});
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
}

function host(ns: string): Host {
  return {ns, wrap: ['ip', 'netns', 'exec', ns]};
}

/** A server namespace and `count` client namespaces, the link to client k on 10.77.k.0/24 (server .1, client .2). */
export function network(t: ExecutionContext, count: number): Network {
  const tag = `mlt${process.pid}n${made++}`;
  const server = host(`${tag}s`);
  const namespaces = [server.ns];
  t.teardown(() => {
    for (const ns of namespaces) spawnSync('ip', ['netns', 'del', ns]);
  });
  ip(['netns', 'add', server.ns]);
  ip(['-n', server.ns, 'link', 'set', 'lo', 'up']);
  const clients = [];
  for (let k = 1; k <= count; k++) {
    const client = host(`${tag}c${k}`);
    ip(['netns', 'add', client.ns]);
    namespaces.push(client.ns);
    // Made inside the server's namespace, its peer born in the client's: neither end ever exists here.
    ip(['-n', server.ns, 'link', 'add', `v${k}`, 'type', 'veth', 'peer', 'name', 'v0', 'netns', client.ns]);
    ip(['-n', server.ns, 'addr', 'add', `10.77.${k}.1/24`, 'dev', `v${k}`]);
    ip(['-n', client.ns, 'addr', 'add', `10.77.${k}.2/24`, 'dev', 'v0']);
    for (const [ns, link] of [[server.ns, `v${k}`], [client.ns, 'v0'], [client.ns, 'lo']]) ip(['-n', ns, 'link', 'set', link, 'up']);
    clients.push({...client, address: `10.77.${k}.2`, serverAddress: `10.77.${k}.1`});
  }
  return {server, clients};
}
