// Tries to leave its preopened directory: `..`, absolute paths, a symlink the host made
// pointing out (`escape`, to the parent), a symlink it makes itself, and a rename out.
// Every attempt must fail; prints "blocked" or "ESCAPED" for each, and exits with the
// number of escapes.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int escapes = 0;

static void try_open(const char *path, int flags) {
  int fd = open(path, flags, 0644);
  if (fd >= 0) {
    printf("open %s: ESCAPED\n", path);
    escapes++;
    close(fd);
  } else {
    printf("open %s: blocked (%s)\n", path, strerror(errno));
  }
}

static void check(const char *what, int result) {
  if (result == 0) {
    printf("%s: ESCAPED\n", what);
    escapes++;
  } else {
    printf("%s: blocked (%s)\n", what, strerror(errno));
  }
}

int main(void) {
  struct stat st;
  try_open("../outside", O_RDONLY);
  try_open("../outside", O_WRONLY | O_CREAT | O_TRUNC);
  try_open("/etc/passwd", O_RDONLY);
  try_open("../../../../../../etc/passwd", O_RDONLY);
  try_open("inside/../../outside", O_RDONLY);
  try_open("escape/outside", O_RDONLY);
  try_open("escape/created", O_WRONLY | O_CREAT);
  check("stat escape/outside", stat("escape/outside", &st));
  check("mkdir ../made", mkdir("../made", 0755));
  if (symlink("../outside", "mine") == 0) {
    try_open("mine", O_RDONLY);
    unlink("mine");
  } else {
    printf("symlink mine: refused (%s)\n", strerror(errno));
  }
  int fd = open("moved", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) close(fd);
  check("rename moved ../moved", rename("moved", "../moved"));
  unlink("moved");
  check("unlink ../outside", unlink("../outside"));
  printf("escapes: %d\n", escapes);
  return escapes;
}
