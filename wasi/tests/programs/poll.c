// poll_oneoff on stdio and clocks, through poll(2): stdout is writable at once, stdin
// becomes readable when its writer has written, and a poll with nothing ready times out.
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
  struct pollfd out = {.fd = 1, .events = POLLOUT};
  if (poll(&out, 1, 1000) != 1 || !(out.revents & POLLOUT)) {
    printf("stdout not writable\n");
    return 1;
  }
  struct pollfd in = {.fd = 0, .events = POLLIN};
  int n = poll(&in, 1, 5000);
  if (n != 1 || !(in.revents & POLLIN)) {
    printf("stdin not readable (%d)\n", n);
    return 1;
  }
  char buf[16];
  ssize_t got = read(0, buf, sizeof buf);
  if (poll(NULL, 0, 30) != 0) {
    printf("timeout poll failed\n");
    return 1;
  }
  printf("poll: ok (read %d bytes)\n", (int)got);
  return 0;
}
