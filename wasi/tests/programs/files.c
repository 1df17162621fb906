// Files and directories under the preopen: create, write, read back, seek, pread/pwrite,
// append, truncate, stat, rename, link, symlink/readlink, readdir, mkdir/rmdir, unlink.
// Prints one line per step; any failure prints what failed and exits with status 1.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      printf("FAILED line %d: %s (errno %d: %s)\n", __LINE__, #cond, errno,  \
             strerror(errno));                                               \
      exit(1);                                                               \
    }                                                                        \
  } while (0)

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void) {
  char buf[64];
  CHECK(mkdir("work", 0755) == 0);

  int fd = open("work/a.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
  CHECK(fd >= 0);
  CHECK(write(fd, "hello, world", 12) == 12);
  CHECK(close(fd) == 0);

  fd = open("work/a.txt", O_RDWR);
  CHECK(fd >= 0);
  memset(buf, 0, sizeof buf);
  CHECK(read(fd, buf, sizeof buf) == 12);
  CHECK(strcmp(buf, "hello, world") == 0);
  CHECK(lseek(fd, 7, SEEK_SET) == 7);
  CHECK(write(fd, "WASI!", 5) == 5);
  CHECK(lseek(fd, 0, SEEK_CUR) == 12);
  CHECK(pwrite(fd, "H", 1, 0) == 1);
  CHECK(lseek(fd, 0, SEEK_CUR) == 12);
  memset(buf, 0, sizeof buf);
  CHECK(pread(fd, buf, 5, 7) == 5);
  CHECK(strcmp(buf, "WASI!") == 0);
  CHECK(ftruncate(fd, 5) == 0);
  struct stat st;
  CHECK(fstat(fd, &st) == 0);
  CHECK(st.st_size == 5 && S_ISREG(st.st_mode));
  CHECK(close(fd) == 0);
  printf("write, seek, pread, pwrite, truncate: ok\n");

  fd = open("work/a.txt", O_WRONLY | O_APPEND);
  CHECK(fd >= 0);
  CHECK(write(fd, "!!", 2) == 2);
  CHECK(close(fd) == 0);
  FILE *f = fopen("work/a.txt", "r");
  CHECK(f != NULL);
  CHECK(fgets(buf, sizeof buf, f) != NULL);
  CHECK(fclose(f) == 0);
  CHECK(strcmp(buf, "Hello!!") == 0);
  printf("append: %s\n", buf);

  CHECK(rename("work/a.txt", "work/b.txt") == 0);
  CHECK(access("work/a.txt", F_OK) != 0 && errno == ENOENT);
  CHECK(stat("work/b.txt", &st) == 0 && st.st_size == 7);
  CHECK(link("work/b.txt", "work/c.txt") == 0);
  CHECK(stat("work/c.txt", &st) == 0 && st.st_nlink == 2);
  CHECK(symlink("b.txt", "work/link") == 0);
  ssize_t n = readlink("work/link", buf, sizeof buf - 1);
  CHECK(n == 5);
  buf[n] = 0;
  CHECK(strcmp(buf, "b.txt") == 0);
  CHECK(lstat("work/link", &st) == 0 && S_ISLNK(st.st_mode));
  CHECK(stat("work/link", &st) == 0 && S_ISREG(st.st_mode));
  printf("rename, link, symlink, readlink: ok\n");

  CHECK(mkdir("work/sub", 0755) == 0);
  CHECK(mkdir("work/sub", 0755) != 0 && errno == EEXIST);
  DIR *d = opendir("work");
  CHECK(d != NULL);
  char *names[16];
  int count = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      CHECK(count < 16);
      names[count++] = strdup(e->d_name);
    }
  }
  CHECK(closedir(d) == 0);
  qsort(names, count, sizeof names[0], cmp);
  printf("readdir:");
  for (int i = 0; i < count; i++) printf(" %s", names[i]);
  printf("\n");

  CHECK(rmdir("work") != 0 && errno == ENOTEMPTY);
  CHECK(unlink("work/link") == 0);
  CHECK(unlink("work/b.txt") == 0);
  CHECK(unlink("work/c.txt") == 0);
  CHECK(rmdir("work/sub") == 0);
  CHECK(rmdir("work") == 0);
  CHECK(open("work/a.txt", O_RDONLY) < 0 && errno == ENOENT);
  printf("unlink, rmdir: ok\n");
  return 0;
}
