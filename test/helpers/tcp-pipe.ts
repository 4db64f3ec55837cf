// A TCP client as a program, for the near end of a link between namespaces: it
// connects to HOST PORT and then carries standard input to the connection and the
// connection to standard output. Standard error says what became of it, one line
// each: "connected", then "tcp-pipe: CODE" (ECONNREFUSED, ECONNRESET, or ETIMEDOUT
// when no connection was made within CONNECT_TIMEOUT_MS) if it failed, exit 1.
// Usage: node tcp-pipe.js HOST PORT [CONNECT_TIMEOUT_MS]
import net from 'node:net';

const [host, port, connectTimeoutMs] = process.argv.slice(2);
const socket = net.connect({host, port: Number(port), allowHalfOpen: true});
const fail = (code: string) => {
  process.stderr.write(`tcp-pipe: ${code}\n`);
  process.exit(1);
};
const bound = setTimeout(() => fail('ETIMEDOUT'), Number(connectTimeoutMs ?? 20_000));
socket.on('connect', () => {
  clearTimeout(bound);
  socket.setNoDelay(true);
  process.stderr.write('connected\n');
  process.stdin.pipe(socket);
  socket.pipe(process.stdout, {end: false});
});
socket.on('error', error => fail((error as NodeJS.ErrnoException).code ?? error.message));
socket.on('end', () => process.stdout.end(() => process.exit(0)));
