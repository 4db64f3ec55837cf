// A TLS client as a program of its own, for a client in another network namespace
// (a test cannot move itself there): it connects to HOST PORT with the certificate,
// key and CA given, then carries standard input to the connection and the connection
// to standard output, so a WireClient can drive it as it drives an agent's pipes.
// Usage: node tls-relay.js HOST PORT CERT KEY CA
import fs from 'node:fs';
import tls from 'node:tls';

const [host, port, cert, key, ca] = process.argv.slice(2);
const socket = tls.connect({host, port: Number(port), cert: fs.readFileSync(cert), key: fs.readFileSync(key), ca: fs.readFileSync(ca)});
socket.on('secureConnect', () => {
  process.stdin.pipe(socket);
  socket.pipe(process.stdout);
});
socket.on('error', error => {
  process.stderr.write(`tls-relay: ${(error as NodeJS.ErrnoException).code ?? error.message}\n`);
  process.exitCode = 1;
});
socket.on('close', () => process.stdout.end(() => process.exit()));
