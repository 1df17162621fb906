# Helpers the benchmark scripts source: one run's wall time and peak RSS, medians and
# ratios. The sourcing script sets `tmp` to a scratch directory.

# Appends "seconds kilobytes" of one run of the command to file $1 (output discarded); a
# failed run appends nothing.
measure() {
  local out=$1; shift
  if /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" >/dev/null 2>&1; then
    cat "$tmp/time" >> "$out"
  else
    echo "(failed: $*)" >&2
  fi
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# The median seconds and kilobytes in file $1, or "-" if it holds no run.
secs() { if [ -s "$1" ]; then cut -d' ' -f1 "$1" | median; else echo -; fi; }
mb() { if [ -s "$1" ]; then echo $(( $(cut -d' ' -f2 "$1" | median) / 1024 )); else echo -; fi; }
ratio() { if [ "$1" = - ] || [ "$2" = - ]; then echo -; else printf "%.2f" "$(echo "$1 / $2" | bc -l)"; fi; }

