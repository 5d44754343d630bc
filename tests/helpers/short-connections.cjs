// Opens and closes `count` short TCP connections to 127.0.0.1:`port`, one after another, the
// client closing first (so its side ends in TIME_WAIT). Prints {count, maxMs, medianMs, localPorts}
// when done: the local ports let a test find its own connections by their whole identity.
const net = require('node:net');
const [port, count] = process.argv.slice(2).map(Number);

const localPorts = [];

function once() {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('error', reject);
    socket.once('connect', () => {
      localPorts.push(socket.localPort);
      socket.end();
    });
    socket.on('data', () => {});
    socket.once('close', () => resolve(performance.now() - started));
  });
}

(async () => {
  const durations = [];
  for (let i = 0; i < count; i++) durations.push(await once());
  durations.sort((a, b) => a - b);
  process.stdout.write(
    JSON.stringify({
      count,
      maxMs: durations[durations.length - 1],
      medianMs: durations[durations.length >> 1],
      localPorts,
    }) + '\n',
  );
})();
