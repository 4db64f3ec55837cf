// The far end of row 33's baseline, and of row 32's bandwidth probe: what a `cp`
// over a TLS connection needs at the receiving machine. A mutual-TLS server (the
// agent's certificate, clients the CA signed) that takes, per connection, an
// 8-byte length and then that many bytes, writes them to --out (truncated first;
// /dev/null for the probe), and answers "ok" once they are all written and the
// file closed: then the sender knows they are on the file, as marklog knows a
// write is on the R-VOL once the agent answers.
// Run as: node dist/bench/lib/tls-sink.js --cert F --key F --ca F --out FILE
// It prints {"port": N} once it listens on 127.0.0.1, and runs until SIGTERM.
import fs from 'node:fs';
import tls from 'node:tls';
import type net from 'node:net';
import {parseArgs} from 'node:util';

/** What the file stream buffers before the socket is paused: big writes, few system calls. */
const BUFFER_BYTES = 4 * 1024 * 1024;

const {values} = parseArgs({options: {cert: {type: 'string'}, key: {type: 'string'}, ca: {type: 'string'}, out: {type: 'string'}}});
const out = values.out!;

function receive(socket: tls.TLSSocket): void {
  let header = Buffer.alloc(0);
  let expected = -1;
  let received = 0;
  const file = fs.createWriteStream(out, {highWaterMark: BUFFER_BYTES});
  file.on('drain', () => socket.resume());
  file.on('error', error => socket.destroy(error));
  const take = (chunk: Buffer) => {
    received += chunk.length;
    if (!file.write(chunk)) socket.pause();
    if (received === expected) file.end(() => socket.end('ok'));
  };
  socket.on('data', (chunk: Buffer) => {
    if (expected >= 0) return take(chunk);
    header = Buffer.concat([header, chunk]);
    if (header.length < 8) return;
    expected = Number(header.readBigUInt64BE(0));
    if (expected === 0) file.end(() => socket.end('ok'));
    else if (header.length > 8) take(header.subarray(8));
  });
  socket.on('error', () => file.destroy());
}

const server = tls.createServer({
  cert: fs.readFileSync(values.cert!), key: fs.readFileSync(values.key!), ca: fs.readFileSync(values.ca!),
  requestCert: true, rejectUnauthorized: true,
}, receive);
server.on('connection', (raw: net.Socket) => raw.setNoDelay(true));
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({port: (server.address() as net.AddressInfo).port})}\n`);
});
process.on('SIGTERM', () => process.exit(0));
