#!/usr/bin/env bash
# Counts the instructions (valgrind cachegrind's `Ir`) two builds of the release
# `spec-runner` execute on benchmark scripts, and prints their ratio (new / old). Unlike wall
# time on a shared, noisy machine, the count is the same on every run, so it shows changes of
# a few percent. Usage:
#
#   OLD=path/to/old/spec-runner scripts/instructions.sh FILE.wast...
#
# NEW defaults to this checkout's `target/release/spec-runner`. Valgrind runs code about 50
# times slower: use cut-down scripts for the long workloads (fewer rounds or elements).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
old="${OLD:?set OLD to the spec-runner binary to compare against}"
new="${NEW:-$root/target/release/spec-runner}"
count() {
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$1" --timeout 0 "$2" 2>&1 \
    | awk '/I *refs/ { gsub(",", "", $NF); print $NF }'
}
printf "%-24s %16s %16s %7s\n" file old_Ir new_Ir ratio
for f in "$@"; do
  o=$(count "$old" "$f")
  n=$(count "$new" "$f")
  printf "%-24s %16s %16s %7.2f\n" "$(basename "$f" .wast)" "$o" "$n" "$(echo "$n / $o" | bc -l)"
done
