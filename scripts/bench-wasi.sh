#!/usr/bin/env bash
# Compares `gcwasm run` with `wasmtime run` on the WASI programs in bench/wasi/: median wall
# time over alternating runs and peak RSS, with the ratio ours / Wasmtime. Usage:
#
#   scripts/bench-wasi.sh [-n RUNS] [FILE...]      (default: every .wat and .wasm there,
#                                                  and bench/wasi/sqlite/sqlite_bench.wasm)
#
# Needs a release build (`cargo build --release -p cli`) and `wasmtime` on PATH
# (`cargo install wasmtime-cli@48.0.8 --locked`). Each program gets a fresh scratch
# directory preopened as `/`, and its stdout goes to /dev/null; Wasmtime's compilation
# cache is off. A second table compares, for each binary, compiling it (`gcwasm compile`
# against `wasmtime compile`) and running the precompiled file (`run --allow-precompiled`,
# ours against Wasmtime's), which measures the generated code without compile time.
set -euo pipefail
runs=5
if [ "${1:-}" = "-n" ]; then runs=$2; shift 2; fi
root=$(cd "$(dirname "$0")/.." && pwd)
ours="${OURS:-$root/target/release/gcwasm}"
if [ $# -eq 0 ]; then
  set -- "$root"/bench/wasi/*.wat "$root"/bench/wasi/*.wasm "$root"/bench/wasi/sqlite/*.wasm
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$root/scripts/measure.sh"
mkdir -p "$tmp/dir"

printf "%-20s %7s %9s %8s %7s %9s\n" file ours_s wasmtime_s ratio rss_MB wasmtime_MB
for file in "$@"; do
  name=$(basename "$file")
  : > "$tmp/ours"; : > "$tmp/wt"
  for _ in $(seq "$runs"); do
    measure "$tmp/ours" "$ours" run --dir "$tmp/dir::/" "$file"
    # Without its compilation cache, which would otherwise skip compiling after the first run.
    measure "$tmp/wt" wasmtime run -C cache=n --dir "$tmp/dir::/" "$file"
  done
  o=$(secs "$tmp/ours"); w=$(secs "$tmp/wt")
  printf "%-20s %7s %9s %8s %7s %9s\n" "$name" "$o" "$w" "$(ratio "$o" "$w")" \
    "$(mb "$tmp/ours")" "$(mb "$tmp/wt")"
done

echo
printf "%-20s %9s %10s %8s %12s %8s %10s %8s\n" file compile_s wasmtime_s ratio precompiled_s run_s \
  wasmtime_pre vs_pre
for file in "$@"; do
  case "$file" in *.wasm) ;; *) continue ;; esac
  name=$(basename "$file")
  : > "$tmp/c"; : > "$tmp/wc"; : > "$tmp/p"; : > "$tmp/r"; : > "$tmp/wp"
  "$ours" compile "$file" -o "$tmp/pre.gcwasm"
  wasmtime compile -C cache=n "$file" -o "$tmp/pre.cwasm"
  for _ in $(seq "$runs"); do
    measure "$tmp/c" "$ours" compile "$file" -o "$tmp/out.gcwasm"
    measure "$tmp/wc" wasmtime compile -C cache=n "$file" -o "$tmp/out.cwasm"
    measure "$tmp/p" "$ours" run --allow-precompiled --dir "$tmp/dir::/" "$tmp/pre.gcwasm"
    measure "$tmp/r" "$ours" run --dir "$tmp/dir::/" "$file"
    measure "$tmp/wp" wasmtime run --allow-precompiled --dir "$tmp/dir::/" "$tmp/pre.cwasm"
  done
  c=$(secs "$tmp/c"); w=$(secs "$tmp/wc"); p=$(secs "$tmp/p"); wp=$(secs "$tmp/wp")
  printf "%-20s %9s %10s %8s %12s %8s %10s %8s\n" "$name" "$c" "$w" "$(ratio "$c" "$w")" \
    "$p" "$(secs "$tmp/r")" "$wp" "$(ratio "$p" "$wp")"
done
