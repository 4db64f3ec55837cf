// A TCP echo server as a program, for the far end of a link between namespaces: it
// listens on HOST PORT (0: any free port), prints {"port":N} once it does, and sends
// every connection's bytes back to it, ending its side when the client ends its own.
// Usage: node tcp-echo.js HOST PORT
import net from 'node:net';

const [host, port] = process.argv.slice(2);
const server = net.createServer({allowHalfOpen: true}, socket => {
  socket.setNoDelay(true);
  socket.pipe(socket);
  // A reset client is the test's business, not this server's end.
  socket.on('error', () => socket.destroy());
});
server.listen(Number(port), host, () => {
  process.stdout.write(`${JSON.stringify({port: (server.address() as net.AddressInfo).port})}\n`);
});
