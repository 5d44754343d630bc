# A TCP listener on 127.0.0.1 whose process name (comm, as /proc shows it) is argv[1]: a hostile
# name with control characters, for the export tests. Prints {"pid", "port"} when ready.
import ctypes, json, os, socket, sys, time

PR_SET_NAME = 15
ctypes.CDLL(None).prctl(PR_SET_NAME, sys.argv[1].encode()[:15], 0, 0, 0)
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
s.listen(8)
print(json.dumps({"pid": os.getpid(), "port": s.getsockname()[1]}), flush=True)
time.sleep(3600)
