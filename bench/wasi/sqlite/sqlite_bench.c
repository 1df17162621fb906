// SQLite through WASI, as a large real program (about 1.1 MB of Wasm): an in-memory
// database gets 200,000 rows in one transaction, an index, then point lookups, a range
// aggregate and a grouped query. Prints the checksums; exits 1 on any SQLite error.
#include <stdio.h>
#include <stdlib.h>
#include "sqlite3.h"

static sqlite3 *db;

static void check(int rc, const char *what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    printf("%s: %s\n", what, sqlite3_errmsg(db));
    exit(1);
  }
}

static void exec(const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
    printf("%s: %s\n", sql, err);
    exit(1);
  }
}

int main(int argc, char **argv) {
  int rows = argc > 1 ? atoi(argv[1]) : 200000;
  check(sqlite3_open(":memory:", &db), "open");
  exec("create table t(id integer primary key, k integer, name text)");
  exec("begin");
  sqlite3_stmt *ins;
  check(sqlite3_prepare_v2(db, "insert into t(k, name) values (?, ?)", -1, &ins, NULL), "prepare");
  unsigned x = 12345;
  char name[32];
  for (int i = 0; i < rows; i++) {
    x = x * 1103515245u + 12345u;
    snprintf(name, sizeof name, "name-%u", x % 10007);
    sqlite3_bind_int(ins, 1, (int)(x % 100000));
    sqlite3_bind_text(ins, 2, name, -1, SQLITE_TRANSIENT);
    check(sqlite3_step(ins), "insert");
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  exec("commit");
  exec("create index t_k on t(k)");

  sqlite3_stmt *q;
  check(sqlite3_prepare_v2(db, "select count(*) from t where k = ?", -1, &q, NULL), "prepare");
  long hits = 0;
  for (int i = 0; i < 20000; i++) {
    sqlite3_bind_int(q, 1, (i * 7919) % 100000);
    check(sqlite3_step(q), "lookup");
    hits += sqlite3_column_int(q, 0);
    sqlite3_reset(q);
  }
  sqlite3_finalize(q);

  check(sqlite3_prepare_v2(db,
      "select sum(k), count(distinct name) from t where k between 25000 and 75000",
      -1, &q, NULL), "prepare");
  check(sqlite3_step(q), "range");
  long long sum = sqlite3_column_int64(q, 0);
  int distinct = sqlite3_column_int(q, 1);
  sqlite3_finalize(q);

  check(sqlite3_prepare_v2(db,
      "select name, count(*) c from t group by name order by c desc, name limit 1",
      -1, &q, NULL), "prepare");
  check(sqlite3_step(q), "group");
  printf("rows %d hits %ld sum %lld distinct %d top %s %d\n", rows, hits, sum, distinct,
         sqlite3_column_text(q, 0), sqlite3_column_int(q, 1));
  sqlite3_finalize(q);
  sqlite3_close(db);
  return 0;
}
