// Background load for the test suite (issue 16): a busy host, so that a test which finds a socket by
// one port, or counts on a quiet table, fails here rather than on a user's machine.
// Usage: node background-load.cjs TIME_WAIT_GOAL RATE
//   Short loopback connections are made until the host holds TIME_WAIT_GOAL sockets in TIME_WAIT
//   with at least 30 s left (counted in /proc/net/tcp{,6}: the kernel may reuse some loopback
//   TIME_WAIT ports at once, and old ones are about to go), then RATE a second until stdin closes
//   (the suite ended) or it is killed.
// Prints one JSON line when the first phase is done: {pid, ports, initialMs, timeWait, made, failed};
// then, once a second, {made, failed}. Loopback only: 127.0.0.1 and ::1.
const net = require('node:net');

const { readFileSync } = require('node:fs');

const TIME_WAIT_GOAL = Number(process.argv[2] ?? 20_000);
const RATE = Number(process.argv[3] ?? 100);
// Connections in flight at once during the first phase: enough to take seconds, not minutes,
// without starving the machine's two cores.
const CONCURRENCY = 128;
/** The first phase gives up after this long, and says how far it got. */
const FIRST_PHASE_MS = 60_000;

/** Seconds a TIME_WAIT socket must still have to count towards the goal: it outlasts the first tests. */
const FRESH_SECONDS = 30;
/** USER_HZ: the kernel prints a timer's remaining time (`tr:tm->when`, hex) in clock ticks. */
const TICKS_PER_SECOND = 100;

/** TIME_WAIT rows (state 06) in the host's TCP tables: all of them, and those with FRESH_SECONDS left. */
function countTimeWait() {
  let all = 0;
  let fresh = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6'])
    for (const line of readFileSync(table, 'latin1').split('\n')) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] !== '06') continue;
      all++;
      const when = parseInt(fields[5]?.split(':')[1] ?? '', 16);
      if (when >= FRESH_SECONDS * TICKS_PER_SECOND) fresh++;
    }
  return { all, fresh };
}

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
  let timeWait = countTimeWait();
  // Batches of a few thousand, counted after each, until the host holds the goal.
  while (timeWait.fresh < TIME_WAIT_GOAL && Date.now() - started < FIRST_PHASE_MS) {
    let issued = 0;
    const batch = Math.min(5000, Math.max(1000, Math.ceil((TIME_WAIT_GOAL - timeWait.fresh) * 1.05)));
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (issued < batch) {
          issued++;
          await connectOnce(pick());
        }
      }),
    );
    timeWait = countTimeWait();
  }
  process.stdout.write(
    JSON.stringify({
      pid: process.pid,
      ports: targets.map((t) => t.port),
      initialMs: Date.now() - started,
      timeWait: timeWait.all,
      freshTimeWait: timeWait.fresh,
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
