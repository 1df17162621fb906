#!/bin/sh
# Rebuilds sqlite_bench.wasm from sqlite_bench.c and the SQLite amalgamation, which is
# not checked in: pass the folder holding sqlite3.c and sqlite3.h (from
# https://sqlite.org/download.html, or the npm package better-sqlite3's deps/sqlite3).
# Needs Debian's `clang lld wasi-libc libclang-rt-14-dev-wasm32`.
set -eu
cd "$(dirname "$0")"
src=${1:?usage: build.sh SQLITE_AMALGAMATION_DIR}
clang --target=wasm32-wasi --sysroot=/usr -O2 -Wl,--strip-debug -I"$src" \
  -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_WAL -DSQLITE_TEMP_STORE=3 \
  -D_WASI_EMULATED_GETPID -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS \
  -D_WASI_EMULATED_MMAN \
  sqlite_bench.c "$src/sqlite3.c" \
  -lwasi-emulated-getpid -lwasi-emulated-signal -lwasi-emulated-process-clocks \
  -lwasi-emulated-mman -o sqlite_bench.wasm
echo "built sqlite_bench.wasm ($(grep -m1 '#define SQLITE_VERSION ' "$src/sqlite3.h"))"
