// A child process that holds real loopback sockets for the system tests and the benchmark.
// Usage: node socket-child.cjs '<json plan>'; prints one JSON line when ready, then stays alive
// until killed. Every role keeps its sockets open, so their state is stable while tests look.
const net = require('node:net');
const dgram = require('node:dgram');

const plan = JSON.parse(process.argv[2]);
const keep = [];
const ready = (info) => process.stdout.write(JSON.stringify({ pid: process.pid, ...info }) + '\n');
const fail = (error) => {
  process.stderr.write(`socket-child ${plan.role}: ${error.stack || error}\n`);
  process.exit(1);
};

function listen(options, serverOptions = {}) {
  return new Promise((resolve, reject) => {
    const server = net.createServer(serverOptions, (socket) => keep.push(socket));
    server.once('error', reject);
    server.listen(options, () => resolve(server));
  });
}

function connect(host, port, options = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, ...options });
    socket.once('error', reject);
    socket.once('connect', () => resolve(socket));
    keep.push(socket);
  });
}

const roles = {
  // A TCP listener: { host, ipv6Only?, backlog? }
  async listen() {
    const server = await listen({
      host: plan.host,
      port: plan.port || 0,
      ipv6Only: plan.ipv6Only,
      backlog: plan.backlog,
    });
    ready({ port: server.address().port });
  },
  // A server that closes its side as soon as the client has closed its own (no lingering sockets).
  async closeAfterPeer() {
    const server = net.createServer((socket) => {
      socket.on('data', () => {});
      socket.on('end', () => socket.end());
    });
    await new Promise((resolve) => server.listen({ host: plan.host, port: 0 }, resolve));
    ready({ port: server.address().port });
  },
  // Many listeners in one process, one per port (for the benchmark): { host, count }
  async listenMany() {
    const ports = [];
    for (let i = 0; i < plan.count; i++) ports.push((await listen({ host: plan.host, port: 0 })).address().port);
    ready({ ports });
  },
  // `count` client connections to { host, port }; with halfOpen the client never sends its own FIN.
  // With `spread`, connection i comes from its own loopback address (127.1.x.y): as many peer hosts as connections;
  // with `from`, every connection comes from that address.
  async connect() {
    const localPorts = [];
    for (let i = 0; i < plan.count; i++) {
      const from = plan.spread
        ? { localAddress: `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}` }
        : plan.from
          ? { localAddress: plan.from }
          : {};
      const socket = await connect(plan.host, plan.port, { allowHalfOpen: Boolean(plan.halfOpen), ...from });
      socket.on('end', () => {}); // half-open: take the peer's FIN and stay in CLOSE_WAIT
      localPorts.push(socket.localPort);
    }
    ready({ localPorts });
  },
  // Connections that never complete: they wait in SYN_SENT (the peer's accept queue is full).
  // Reports each one's local port (bound by connect(), readable once the call has been made).
  async connectPending() {
    const sockets = [];
    for (let i = 0; i < plan.count; i++) {
      const socket = net.connect({ host: plan.host, port: plan.port });
      socket.on('error', () => {});
      keep.push(socket);
      sockets.push(socket);
    }
    await new Promise((resolve) => process.nextTick(resolve));
    ready({ localPorts: sockets.map((s) => s.localPort) });
  },
  // A server that closes its side at once (half-close): its sockets go to FIN_WAIT2.
  async halfCloseServer() {
    const server = net.createServer({ allowHalfOpen: true }, (socket) => {
      keep.push(socket);
      socket.end();
    });
    await new Promise((resolve) => server.listen({ host: plan.host, port: 0 }, resolve));
    ready({ port: server.address().port });
  },
  // Opens a connection and closes it first, so this side lingers in TIME_WAIT with no owner.
  async timeWait() {
    const socket = await connect(plan.host, plan.port);
    const localPort = socket.localPort;
    await new Promise((resolve) => {
      socket.on('close', resolve);
      socket.end();
    });
    ready({ localPort });
  },
  // A UDP socket, bound and optionally connected: { host, connectTo? }
  async udp() {
    const type = plan.host.includes(':') ? 'udp6' : 'udp4';
    const socket = dgram.createSocket(type);
    keep.push(socket);
    await new Promise((resolve) => socket.bind(0, plan.host, resolve));
    if (plan.connectTo) await new Promise((resolve) => socket.connect(plan.connectTo, plan.host, resolve));
    ready({ port: socket.address().port });
  },
  // A TCP listener on { host, port } that SIGUSR1 replaces with one on { port2 } within a tick:
  // one socket closed and one opened, the fd count unchanged, no packet sent.
  async relisten() {
    let server = await listen({ host: plan.host, port: plan.port });
    process.on('SIGUSR1', () => {
      server.close();
      listen({ host: plan.host, port: plan.port2 }).then((next) => (server = next), fail);
    });
    ready({ port: server.address().port });
  },
  // One loopback connection that carries known traffic: { host, send, reply, rate? }. The client
  // writes `send` bytes, the server reads them all and writes `reply` bytes back, the client reads
  // them all; then ready. With `rate` (bytes/s) the client goes on writing at that pace in 20
  // chunks a second until SIGUSR1; the server reads everything. SIGHUP: `more` bytes once.
  async transfer() {
    const server = await listen({ host: plan.host, port: 0 });
    const accepted = new Promise((resolve) => server.once('connection', resolve));
    const client = await connect(plan.host, server.address().port);
    const serverSide = await accepted;
    // Resolves once `socket` has received `bytes` in all.
    const receiveAll = (socket, bytes) =>
      new Promise((resolve) => {
        let received = 0;
        socket.on('data', (chunk) => {
          received += chunk.length;
          if (received === bytes) resolve();
        });
      });
    const served = receiveAll(serverSide, plan.send);
    client.write(Buffer.alloc(plan.send, 'a'));
    await served;
    const answered = receiveAll(client, plan.reply);
    serverSide.write(Buffer.alloc(plan.reply, 'b'));
    await answered;
    if (plan.rate) {
      const chunk = Buffer.alloc(Math.round(plan.rate / 20), 'c');
      const timer = setInterval(() => client.write(chunk), 50);
      process.on('SIGUSR1', () => clearInterval(timer));
    }
    // SIGHUP: the client writes `more` bytes (default 50,000) once more.
    process.on('SIGHUP', () => client.write(Buffer.alloc(plan.more ?? 50_000, 'd')));
    ready({ port: server.address().port, localPort: client.localPort });
  },
  // A Unix stream listener at `path` (a leading NUL makes it abstract).
  async unixListen() {
    await listen({ path: plan.path });
    ready({});
  },
};

// SIGUSR2 closes every held connection from this side: the active close leaves it in TIME_WAIT.
process.on('SIGUSR2', () => {
  for (const socket of keep) if (typeof socket.end === 'function') socket.end();
});

// A process that will not stop on SIGTERM, for the kill tests' SIGKILL path.
if (plan.ignoreTerm) process.on('SIGTERM', () => {});

if (!roles[plan.role]) fail(new Error(`unknown role ${plan.role}`));
roles[plan.role]().catch(fail);
setInterval(() => {}, 1 << 30);
