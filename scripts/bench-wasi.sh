#!/usr/bin/env bash
# Compares `gcwasm run` with `wasmtime run` on the WASI programs in bench/wasi/: median wall
# time over alternating runs and peak RSS, with the ratio ours / Wasmtime. Usage:
#
#   scripts/bench-wasi.sh [-n RUNS] [FILE...]      (default: every .wat and .wasm there)
#
# Needs a release build (`cargo build --release -p cli`) and `wasmtime` on PATH
# (`cargo install wasmtime-cli@48.0.8 --locked`). Each program gets a fresh scratch
# directory preopened as `/`, and its stdout goes to /dev/null.
set -euo pipefail
runs=5
if [ "${1:-}" = "-n" ]; then runs=$2; shift 2; fi
root=$(cd "$(dirname "$0")/.." && pwd)
ours="${OURS:-$root/target/release/gcwasm}"
if [ $# -eq 0 ]; then set -- "$root"/bench/wasi/*.wat "$root"/bench/wasi/*.wasm; fi
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
    measure "$tmp/wt" wasmtime run --dir "$tmp/dir::/" "$file"
  done
  o=$(secs "$tmp/ours"); w=$(secs "$tmp/wt")
  printf "%-20s %7s %9s %8s %7s %9s\n" "$name" "$o" "$w" "$(ratio "$o" "$w")" \
    "$(mb "$tmp/ours")" "$(mb "$tmp/wt")"
done
