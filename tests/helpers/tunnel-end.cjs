// The far end of a test's "SSH tunnel": runs inside a network namespace, listens on a Unix socket
// (a path both namespaces see) and carries each connection to HOST:PORT inside the namespace, as
// sshd does for `ssh -L`. Usage: node tunnel-end.cjs SOCKET HOST PORT; prints {"pid":…} when ready.
'use strict';
const net = require('node:net');
const fs = require('node:fs');
const [path, host, port] = process.argv.slice(2);
try {
  fs.unlinkSync(path);
} catch {
  // not there
}
net
  .createServer((incoming) => {
    const outgoing = net.connect({ host, port: Number(port) });
    incoming.pipe(outgoing).pipe(incoming);
    // Either end going ends both: a dead server is a cut connection, as through ssh.
    const end = () => {
      incoming.destroy();
      outgoing.destroy();
    };
    incoming.on('error', end).on('close', end);
    outgoing.on('error', end).on('close', end);
  })
  .listen(path, () => process.stdout.write(`${JSON.stringify({ pid: process.pid })}\n`));
