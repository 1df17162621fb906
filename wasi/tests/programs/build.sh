#!/bin/sh
# Rebuilds the WASI test programs: every NAME.c here becomes NAME.wasm beside it. Needs
# Debian's `clang lld wasi-libc libclang-rt-14-dev-wasm32` (CI uses the committed .wasm
# files and needs no C toolchain).
set -eu
cd "$(dirname "$0")"
for c in *.c; do
  clang --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Werror -Wl,--strip-debug \
    "$c" -o "${c%.c}.wasm"
  echo "built ${c%.c}.wasm"
done
