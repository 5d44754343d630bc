// Short loopback TCP connections as fast as the kernel takes them, for the event-mode benchmark:
// a server thread accepts, reads to EOF and closes; the client connects and closes first, so each
// connection is the whole chain on both ends (SYN_SENT → … → TIME_WAIT, SYN_RECV → … → CLOSE).
// Usage: connections COUNT RATE   (RATE 0: back to back). Prints one JSON line when done.
// Client source addresses rotate over 127.0.0.2-9 so TIME_WAIT leftovers never run out of ports.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static int listener;
static volatile long served;

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void *serve(void *arg) {
  (void)arg;
  char buf[64];
  for (;;) {
    int c = accept(listener, NULL, NULL);
    if (c < 0) continue;
    while (read(c, buf, sizeof buf) > 0) {
    }
    close(c);
    __sync_fetch_and_add(&served, 1);
  }
  return NULL;
}

int main(int argc, char **argv) {
  long count = argc > 1 ? atol(argv[1]) : 1000;
  double rate = argc > 2 ? atof(argv[2]) : 0;
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  listener = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(listener, (struct sockaddr *)&addr, sizeof addr) || listen(listener, 4096)) {
    perror("listen");
    return 1;
  }
  socklen_t len = sizeof addr;
  getsockname(listener, (struct sockaddr *)&addr, &len);
  int port = ntohs(addr.sin_port);
  fprintf(stderr, "{\"port\":%d}\n", port);
  pthread_t thread;
  pthread_create(&thread, NULL, serve, NULL);
  usleep(200000); // the caller starts watching the port
  long made = 0, failed = 0;
  double start = now_s();
  for (long i = 0; i < count; i++) {
    if (rate > 0) {
      double due = start + i / rate;
      double wait = due - now_s();
      if (wait > 0.0005) usleep((useconds_t)(wait * 1e6));
    }
    int s = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(s, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    struct sockaddr_in from = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000002 + (i % 8))};
    bind(s, (struct sockaddr *)&from, sizeof from);
    if (connect(s, (struct sockaddr *)&addr, sizeof addr) == 0)
      made++;
    else
      failed++;
    close(s);
  }
  double seconds = now_s() - start;
  for (int i = 0; i < 500 && served < made; i++) usleep(10000);
  printf("{\"port\":%d,\"made\":%ld,\"failed\":%ld,\"served\":%ld,\"seconds\":%.3f}\n", port, made, failed, served,
         seconds);
  return 0;
}
