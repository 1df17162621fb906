// A C benchmark through wasi-libc: writes 32 MiB of generated data to a file in 64 KiB
// chunks, reads it back computing a CRC-32, sorts 2,000,000 integers with qsort, and
// prints both checksums. Run with a writable preopen: `run --dir DIR::/ files_and_sort.wasm`.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 65536
#define CHUNKS 512
#define INTS 2000000

static uint32_t crc_table[256];

static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}

static uint32_t crc(uint32_t c, const unsigned char *p, size_t n) {
  c = ~c;
  while (n--) c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}

static uint64_t state = 88172645463325252ull;
static uint32_t next(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return (uint32_t)state;
}

static int cmp(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

int main(void) {
  static unsigned char buf[CHUNK];
  crc_init();
  FILE *f = fopen("bench.data", "wb");
  if (!f) { perror("bench.data"); return 1; }
  uint32_t written = 0;
  for (int i = 0; i < CHUNKS; i++) {
    for (int j = 0; j < CHUNK; j += 4) {
      uint32_t v = next();
      memcpy(buf + j, &v, 4);
    }
    written = crc(written, buf, CHUNK);
    if (fwrite(buf, 1, CHUNK, f) != CHUNK) { perror("write"); return 1; }
  }
  fclose(f);
  f = fopen("bench.data", "rb");
  if (!f) { perror("bench.data"); return 1; }
  uint32_t read = 0;
  size_t n;
  while ((n = fread(buf, 1, CHUNK, f)) > 0) read = crc(read, buf, n);
  fclose(f);
  remove("bench.data");
  if (read != written) { printf("crc mismatch\n"); return 1; }

  uint32_t *a = malloc(INTS * sizeof *a);
  for (int i = 0; i < INTS; i++) a[i] = next();
  qsort(a, INTS, sizeof *a, cmp);
  uint32_t sorted = 0;
  for (int i = 1; i < INTS; i++) {
    if (a[i - 1] > a[i]) { printf("not sorted\n"); return 1; }
    sorted = sorted * 31 + a[i];
  }
  printf("crc %08x sorted %08x\n", read, sorted);
  return 0;
}
