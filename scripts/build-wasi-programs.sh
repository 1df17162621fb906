#!/bin/sh
# Rebuilds the C programs compiled to WASI preview 1: every NAME.c in the given folders
# (default: wasi/tests/programs and bench/wasi) becomes NAME.wasm beside it. Needs Debian's
# `clang lld wasi-libc libclang-rt-14-dev-wasm32`; the .wasm files are committed, so CI
# and users need no C toolchain.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -eq 0 ]; then set -- "$root/wasi/tests/programs" "$root/bench/wasi"; fi
for dir in "$@"; do
  for c in "$dir"/*.c; do
    clang --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Werror -Wl,--strip-debug \
      "$c" -o "${c%.c}.wasm"
    echo "built ${c%.c}.wasm"
  done
done
