// Clocks and sleeping: realtime is after 2020, monotonic never goes back, a 20 ms sleep
// (poll_oneoff on a clock) lasts at least 20 ms, and the monotonic resolution is positive.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long ns(clockid_t id) {
  struct timespec t;
  if (clock_gettime(id, &t) != 0) {
    printf("clock_gettime failed\n");
    exit(1);
  }
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(void) {
  struct timespec res;
  if (clock_getres(CLOCK_MONOTONIC, &res) != 0 || (res.tv_sec == 0 && res.tv_nsec == 0)) {
    printf("bad monotonic resolution\n");
    return 1;
  }
  long long real = ns(CLOCK_REALTIME);
  if (real / 1000000000LL < 1577836800LL) {  // 2020-01-01
    printf("realtime is before 2020\n");
    return 1;
  }
  long long a = ns(CLOCK_MONOTONIC);
  struct timespec nap = {0, 20 * 1000 * 1000};
  if (nanosleep(&nap, NULL) != 0) {
    printf("nanosleep failed\n");
    return 1;
  }
  long long b = ns(CLOCK_MONOTONIC);
  if (b - a < 20 * 1000 * 1000LL) {
    printf("slept only %lld ns\n", b - a);
    return 1;
  }
  printf("clocks: ok\n");
  return 0;
}
