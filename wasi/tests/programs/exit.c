// Exits with the status given as its first argument (after flushing a line of output).
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  int status = argc > 1 ? atoi(argv[1]) : 0;
  printf("exiting with %d\n", status);
  exit(status);
}
