# One loopback TCP connection in one process, for the close-connection tests: prints
# {"pid", "listenPort", "clientPort"} when connected, then waits on both ends and prints what
# each saw ({"client": "ECONNABORTED", "server": "ECONNRESET"}, "open" if nothing within 10 s).
import errno, json, os, select, socket, sys

listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
client = socket.create_connection(("127.0.0.1", listener.getsockname()[1]))
server, _ = listener.accept()
print(json.dumps({"pid": os.getpid(), "listenPort": listener.getsockname()[1], "clientPort": client.getsockname()[1]}), flush=True)

seen = {}
ends = {"client": client, "server": server}
while len(seen) < 2:
    ready, _, _ = select.select([s for n, s in ends.items() if n not in seen], [], [], 10)
    if not ready:
        break
    for name, s in ends.items():
        if s in ready and name not in seen:
            try:
                data = s.recv(16)
                seen[name] = "EOF" if data == b"" else "data"
            except OSError as e:
                seen[name] = errno.errorcode.get(e.errno, str(e.errno))
for name in ends:
    seen.setdefault(name, "open")
print(json.dumps(seen), flush=True)
