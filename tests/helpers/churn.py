# Process churn for the collector's churn test: a parent that holds a listener forks children that
# inherit it, open a connection to a target port, and exit after a few milliseconds. Bounded in time.
import json, os, random, socket, sys, time

target_port, seconds = int(sys.argv[1]), float(sys.argv[2])
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.bind(("127.0.0.1", 0))
listener.listen(16)
print(json.dumps({"pid": os.getpid(), "port": listener.getsockname()[1]}), flush=True)

forks = 0
deadline = time.time() + seconds
while time.time() < deadline:
    pid = os.fork()
    if pid == 0:
        try:
            c = socket.create_connection(("127.0.0.1", target_port))
            time.sleep(random.uniform(0.002, 0.03))
            c.close()
        finally:
            os._exit(0)
    forks += 1
    time.sleep(0.003)
    while True:
        try:
            done, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if done == 0:
            break
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
print(json.dumps({"forks": forks}), flush=True)
time.sleep(3600)
