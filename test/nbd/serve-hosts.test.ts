// Issue 14, item 1 (who may connect, one writer at a time), with real other hosts:
// network namespaces give each client an address of its own (test/helpers/netns.ts).
// `marklog serve` listens beyond loopback with TLS; one host writes an export at a
// time, with as many connections as it likes (CAN_MULTI_CONN); another host asking
// for it meanwhile is refused at GO with a message naming the holder, and gets it once
// the holder has gone; a host that only reads uses a --read-only server beside it.
// --insecure serves another host in plain text, with a warning.
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {BIN, cliJson} from '../helpers/cli.js';
import {network} from '../helpers/netns.js';
import {exited} from '../helpers/processes.js';
import {attempt, run, serve} from '../helpers/serve.js';
import {createVolume, imagePath, tempDir} from '../helpers/sites.js';
import {makeCertificates, qemuTls} from '../helpers/tls-certs.js';
import {waitFor} from '../helpers/wait.js';

const MIB = 1024 * 1024;

function primary(t: ExecutionContext) {
  const site = path.join(tempDir(t), 'primary');
  cliJson(['site', 'init', site, '--role', 'primary']);
  const ldev = createVolume(site, '4M');
  return {site, ldev, image: () => fs.readFileSync(imagePath(site, ldev))};
}

test('with TLS on every address, one host writes an export with several connections; a second host is refused at GO, naming the holder, reads through a --read-only server meanwhile, and writes once the holder has gone', async t => {
  const {site, ldev, image} = primary(t);
  const net = network(t, 2);
  const [first, second] = net.clients;
  const certs = makeCertificates(t, net.clients.map(c => c.serverAddress));
  const tls = ['--tls-cert', certs.server.cert, '--tls-key', certs.server.key, '--tls-ca', certs.server.ca];
  const served = await serve(t, site, tls, {listen: '0.0.0.0:0', wrap: net.server.wrap});
  const readOnly = await serve(t, site, [...tls, '--read-only'], {listen: '0.0.0.0:0', wrap: net.server.wrap});
  const valid = certs.clientDirs.valid;
  const qemuFrom = (client: typeof first, port: number, commands: string[], flags: string[] = []) => [...client.wrap, 'qemu-io', ...flags,
    ...qemuTls(valid, `host=${client.serverAddress},port=${port},export=${ldev}`), ...commands.flatMap(c => ['-c', c])];
  // The holder: qemu-io on the first host writes, then keeps its connection open (stdbuf: its report of the write comes at once, not at exit).
  const [command, ...args] = qemuFrom(first, served.port, ['write -P 0x11 0 64k', 'sleep 600000']);
  const holder = spawn('stdbuf', ['-oL', command, ...args], {stdio: ['ignore', 'pipe', 'pipe']});
  const holderDone = exited(holder);
  t.teardown(() => holder.kill('SIGKILL'));
  let said = '';
  holder.stdout!.on('data', chunk => {
    said += chunk;
  });
  holder.stderr!.on('data', chunk => {
    said += chunk;
  });
  await waitFor(() => said.includes('wrote 65536/65536') || holder.exitCode !== null, {what: 'the holder to write', seen: () => said});
  t.is(holder.exitCode, null, `the holder is still connected: ${said}`);
  const [again, ...againArgs] = qemuFrom(first, served.port, ['write -P 0x22 1M 64k']);
  run(again, againArgs);
  const [info, ...infoArgs] = [...first.wrap, 'nbdinfo', '--json', `nbds://${first.serverAddress}:${served.port}/${ldev}?tls-certificates=${valid}`];
  t.true(JSON.parse(run(info, infoArgs)).exports[0].can_multi_conn, 'the holder\'s host opens more connections, and multi-connection is offered');
  const [refusedCommand, ...refusedArgs] = qemuFrom(second, served.port, ['write -P 0x33 2M 64k']);
  const refused = attempt(refusedCommand, refusedArgs);
  t.not(refused.status, 0, 'the second host may not write meanwhile');
  t.regex(refused.output, /Denied by server for option 7 \(go\)/, 'ERR_POLICY on GO');
  t.regex(refused.output, new RegExp(`LDEV ${ldev} is being written from ${first.address.replaceAll('.', '\\.')}, certificate "test-client" \\(one connection, since `));
  t.true(image().subarray(2 * MIB, 2 * MIB + 65536).every(b => b === 0), 'nothing of the refused host was written');
  const [reader, ...readerArgs] = qemuFrom(second, readOnly.port, ['read -P 0x11 0 64k'], ['-r']);
  run(reader, readerArgs);
  holder.kill('SIGTERM');
  await holderDone;
  // The server learns of the holder's close a moment after it exits; the claim goes with it.
  let tries = 0;
  await waitFor(() => attempt(refusedCommand, refusedArgs).status === 0 || (++tries, false), {
    what: 'the second host to be let write', seen: () => `${tries} refusals`, timeoutMs: 15_000, everyMs: 100,
  });
  served.child.kill('SIGTERM');
  readOnly.child.kill('SIGTERM');
  t.like(await served.done, {code: 0});
  t.like(await readOnly.done, {code: 0});
  const bytes = image();
  for (const [offset, value] of [[0, 0x11], [MIB, 0x22], [2 * MIB, 0x33]]) t.true(bytes.subarray(offset, offset + 65536).every(b => b === value), `0x${value.toString(16)} at ${offset}`);
});

test('--insecure on an address beyond loopback warns, on standard error and in the JSON line, and serves another host in plain text', async t => {
  const {site, ldev, image} = primary(t);
  const net = network(t, 1);
  const [client] = net.clients;
  const served = await serve(t, site, ['--insecure'], {listen: '0.0.0.0:0', wrap: net.server.wrap});
  t.is(served.ready.warnings.length, 1);
  t.regex(served.ready.warnings[0], /without TLS \(--insecure\): anyone who reaches it can read and write/);
  const [command, ...args] = [...client.wrap, 'qemu-io', '-f', 'raw', '-c', 'write -P 0x44 0 4k', `nbd://${client.serverAddress}:${served.port}/${ldev}`];
  run(command, args);
  served.child.kill('SIGTERM');
  t.like(await served.done, {code: 0});
  t.true(image().subarray(0, 4096).every(b => b === 0x44));
  // In human mode the warning goes to standard error, before the readiness line on standard output.
  const human = spawn(net.server.wrap[0], [...net.server.wrap.slice(1), process.execPath, BIN, 'serve', '--site', site, '--listen', '0.0.0.0:0', '--insecure'], {stdio: ['ignore', 'pipe', 'pipe']});
  const done = exited(human);
  t.teardown(() => human.kill('SIGKILL'));
  let out = '';
  human.stdout!.on('data', chunk => {
    out += chunk;
  });
  await waitFor(() => out.includes('\n'), {what: 'the readiness line', seen: () => out});
  human.kill('SIGTERM');
  const exit = await done;
  t.is(exit.code, 0);
  t.regex(exit.stderr, /^marklog: warning: serving 0\.0\.0\.0 without TLS \(--insecure\)[^\n]*\n$/);
  t.regex(out, /^serving LDEV \d+ \(4\.00 MiB\) as nbd:\/\/0\.0\.0\.0:\d+\/\d+\n$/);
});
