// Makes `rate` short loopback connections per second (client closes first, server follows) until
// killed: load for the event-mode benchmark. Each connection is ~10 TCP state changes (both ends).
// Prints {port} when ready.
const net = require('node:net');
const rate = Number(process.argv[2] ?? 500);
const server = net.createServer((socket) => {
  socket.on('data', () => {});
  socket.on('end', () => socket.end());
  socket.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  process.stdout.write(JSON.stringify({ pid: process.pid, port }) + '\n');
  const TICK_MS = 20;
  let owed = 0;
  setInterval(() => {
    owed += (rate * TICK_MS) / 1000;
    for (; owed >= 1; owed--) {
      const socket = net.connect({ host: '127.0.0.1', port }, () => socket.end());
      socket.on('data', () => {});
      socket.on('error', () => {});
    }
  }, TICK_MS);
});
