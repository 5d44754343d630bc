// Background load for the test suite (issue 16): a busy host, so that a test which finds a socket by
// one port, or counts on a quiet table, fails here rather than on a user's machine.
// Usage: node background-load.cjs INITIAL RATE
//   INITIAL short loopback connections are made first (ends in TIME_WAIT, half on each side), then
//   RATE short connections per second go on until stdin closes (the suite ended) or it is killed.
// Prints one JSON line when the initial burst is done: {pid, ports, initialMs}; then, once a
// second, {made, failed} so the suite can say what ran. Loopback only: 127.0.0.1 and ::1.
const net = require('node:net');

const INITIAL = Number(process.argv[2] ?? 20_000);
const RATE = Number(process.argv[3] ?? 100);
// Connections in flight at once during the initial burst: enough to take seconds, not minutes,
// without starving the machine's two cores.
const CONCURRENCY = 128;

let made = 0;
let failed = 0;

/** A server per (host, closing side): who closes first decides which end lingers in TIME_WAIT. */
function server(host, serverClosesFirst) {
  const srv = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    socket.on('data', () => {});
    if (serverClosesFirst) socket.end();
    else socket.on('end', () => socket.end());
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen({ host, port: 0 }, () => resolve({ host, port: srv.address().port, serverClosesFirst }));
  });
}

/** One short connection; resolves when both ends have closed. */
function connectOnce(target) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
    socket.on('data', () => {});
    socket.once('connect', () => {
      if (!target.serverClosesFirst) socket.end();
    });
    socket.once('end', () => {
      if (target.serverClosesFirst) socket.end();
    });
    socket.once('error', () => {
      failed++;
      socket.destroy();
      resolve();
    });
    socket.once('close', (hadError) => {
      if (!hadError) made++;
      resolve();
    });
  });
}

(async () => {
  // Mostly 127.0.0.1, where the tests live; some ::1 so IPv6 lookups meet strangers too. Two in three
  // close from the client: its TIME_WAIT holds an ephemeral port, which the kernel then reuses for a
  // new connection to another peer — the case that breaks a test finding a socket by its local port.
  const targets = await Promise.all([
    server('127.0.0.1', false),
    server('127.0.0.1', false),
    server('127.0.0.1', false),
    server('127.0.0.1', true),
    server('::1', false),
    server('::1', true),
  ]);
  let next = 0;
  const pick = () => targets[next++ % targets.length];

  const started = Date.now();
  let issued = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (issued < INITIAL) {
        issued++;
        await connectOnce(pick());
      }
    }),
  );
  process.stdout.write(
    JSON.stringify({
      pid: process.pid,
      ports: targets.map((t) => t.port),
      initialMs: Date.now() - started,
      made,
      failed,
    }) + '\n',
  );

  const TICK_MS = 50;
  let owed = 0;
  setInterval(() => {
    owed += (RATE * TICK_MS) / 1000;
    for (; owed >= 1; owed--) void connectOnce(pick());
  }, TICK_MS);
  setInterval(() => process.stdout.write(JSON.stringify({ made, failed }) + '\n'), 1000);
})().catch((error) => {
  process.stderr.write(`background load: ${error.stack || error}\n`);
  process.exit(1);
});

// The suite holds our stdin: when it ends (even by SIGKILL), so do we.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
