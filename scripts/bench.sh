#!/usr/bin/env bash
# Compares release `spec-runner` with Wasmtime 48 on benchmark scripts: median wall time over
# alternating runs and peak RSS, reported as ratios (ours / wasmtime). Usage:
#
#   scripts/bench.sh [-n RUNS] [FILE.wast...]      (default: every script in bench/)
#
# Needs `wasmtime` on PATH (`cargo install wasmtime-cli@48.0.8 --locked`) and a release build
# (`cargo build --release -p spec-runner`). Wasmtime runs with both its DRC and its default
# copying collector; ours also with its null collector (`null_s`: "oom" when the workload
# does not fit in a heap that never frees). OURS_FLAGS are passed to spec-runner (e.g.
# "--timeout 0").
set -euo pipefail
runs=5
if [ "${1:-}" = "-n" ]; then runs=$2; shift 2; fi
root=$(cd "$(dirname "$0")/.." && pwd)
# OURS overrides the binary measured (e.g. an older build, to compare before and after).
ours="${OURS:-$root/target/release/spec-runner}"
wt_flags=(wast -W gc=y,function-references=y,tail-call=y,exceptions=y)
read -r -a ours_flags <<< "${OURS_FLAGS:-}"
if [ $# -eq 0 ]; then set -- "$root"/bench/*.wast; fi

# Prints "seconds kilobytes" for one run of the given command (its output discarded).
measure() {
  /usr/bin/time -f "%e %M" -o /tmp/bench-time.$$ "$@" >/dev/null 2>&1 || echo "(exit $? from $*)" >&2
  cat /tmp/bench-time.$$
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Builds older than the null collector have no --collector (checked once, without a pipe:
# under pipefail, grep -q closing early would fail the check at random).
help=$("$ours" --help 2>/dev/null || true)
has_null=0; case "$help" in *--collector*) has_null=1 ;; esac

printf "%-22s %9s %9s %9s %9s %9s %9s %8s %8s\n" file ours_s null_s drc_s copy_s vs_drc vs_copy \
  rss_MB drc_MB
for file in "$@"; do
  : > /tmp/bench-ours.$$; : > /tmp/bench-null.$$; : > /tmp/bench-drc.$$; : > /tmp/bench-copy.$$
  null_ok=$has_null
  for _ in $(seq "$runs"); do
    measure "$ours" "${ours_flags[@]}" "$file" >> /tmp/bench-ours.$$
    if [ $null_ok = 1 ]; then
      if /usr/bin/time -f "%e %M" -o /tmp/bench-time.$$ "$ours" "${ours_flags[@]}" \
          --collector null "$file" >/dev/null 2>&1; then
        cat /tmp/bench-time.$$ >> /tmp/bench-null.$$
      else
        null_ok=0
      fi
    fi
    measure wasmtime "${wt_flags[@]}" -C collector=drc "$file" >> /tmp/bench-drc.$$
    measure wasmtime "${wt_flags[@]}" -C collector=copying "$file" >> /tmp/bench-copy.$$
  done
  o=$(cut -d' ' -f1 /tmp/bench-ours.$$ | median); d=$(cut -d' ' -f1 /tmp/bench-drc.$$ | median)
  c=$(cut -d' ' -f1 /tmp/bench-copy.$$ | median)
  n=oom; if [ -s /tmp/bench-null.$$ ] && [ $null_ok = 1 ]; then n=$(cut -d' ' -f1 /tmp/bench-null.$$ | median); fi
  orss=$(cut -d' ' -f2 /tmp/bench-ours.$$ | median); drss=$(cut -d' ' -f2 /tmp/bench-drc.$$ | median)
  printf "%-22s %9s %9s %9s %9s %9.2f %9.2f %8d %8d\n" "$(basename "$file")" "$o" "$n" "$d" "$c" \
    "$(echo "$o / $d" | bc -l)" "$(echo "$o / $c" | bc -l)" $((orss / 1024)) $((drss / 1024))
done
rm -f /tmp/bench-*.$$
