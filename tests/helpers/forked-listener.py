# A listener shared by two processes: the parent listens, then forks; both keep the socket.
import json, os, socket, time

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
s.listen(8)
child = os.fork()
if child == 0:
    time.sleep(3600)
    os._exit(0)
print(json.dumps({"pid": os.getpid(), "childPid": child, "port": s.getsockname()[1]}), flush=True)
try:
    time.sleep(3600)
finally:
    os.kill(child, 9)
