#!/bin/sh
# Rebuilds the C benchmark programs here (NAME.c -> NAME.wasm). Needs Debian's
# `clang lld wasi-libc libclang-rt-14-dev-wasm32`; the .wasm files are committed.
set -eu
cd "$(dirname "$0")"
for c in *.c; do
  clang --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Werror -Wl,--strip-debug \
    "$c" -o "${c%.c}.wasm"
  echo "built ${c%.c}.wasm"
done
