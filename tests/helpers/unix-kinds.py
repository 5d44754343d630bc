# Holds one Unix socket of every kind the collector meets, and prints their inodes as one JSON line:
# stream listener (path), its client and accepted end, an abstract listener (with a NUL inside its
# name), a path with a newline in it, a seqpacket listener, stream and datagram socket pairs, a
# bound datagram socket, an unbound one. Usage: python3 unix-kinds.py DIR; stays until killed.
import json, os, signal, socket, sys

d = sys.argv[1]
held = []
def keep(s):
    held.append(s)
    return os.fstat(s.fileno()).st_ino

def listener(kind, name):
    s = socket.socket(socket.AF_UNIX, kind)
    s.bind(name)
    s.listen(8)
    return s

out = {"pid": os.getpid()}
server = listener(socket.SOCK_STREAM, os.path.join(d, "stream.sock"))
out["streamListener"] = keep(server)
client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
client.connect(os.path.join(d, "stream.sock"))
out["streamClient"] = keep(client)
accepted, _ = server.accept()
out["streamAccepted"] = keep(accepted)
out["abstractListener"] = keep(listener(socket.SOCK_STREAM, b"\0porthole-kinds\0%d" % os.getpid()))
out["newlinePath"] = keep(listener(socket.SOCK_STREAM, os.path.join(d, "two\nlines.sock")))
out["utf8Path"] = keep(listener(socket.SOCK_STREAM, os.path.join(d, "café-日本.sock")))
out["seqpacketListener"] = keep(listener(socket.SOCK_SEQPACKET, os.path.join(d, "seq.sock")))
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
out["streamPair"] = [keep(a), keep(b)]
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
out["dgramPair"] = [keep(a), keep(b)]
bound = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
bound.bind(os.path.join(d, "dgram.sock"))
out["dgramBound"] = keep(bound)
out["dgramUnbound"] = keep(socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM))
print(json.dumps(out), flush=True)
signal.pause()
