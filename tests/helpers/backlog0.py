# A TCP listener with backlog 0 that never accepts: once its accept queue is full the kernel drops
# further SYNs, so clients wait in SYN_SENT. Node cannot do this (libuv accepts at once).
import json, os, socket, sys, time

host = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind((host, 0))
s.listen(0)
print(json.dumps({"pid": os.getpid(), "port": s.getsockname()[1]}), flush=True)
while True:
    time.sleep(3600)
