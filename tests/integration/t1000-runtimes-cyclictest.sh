#!/usr/bin/env bash
# lib/probe/cyclictest.c against the real cyclictest (rt-tests 2.4), through
# tests/unit/cyclic_tool: the command line it builds runs, and what
# cyclictest writes (--json and stdout) parses to the same run both ways
# (threads, cycles, overflows, min, max, percentiles; avg within the text's
# truncation), with one thread and a 400 us histogram, two pinned threads
# and a 20 us histogram (overflows likely), and two threads without a
# histogram ("T:" lines). Short runs (1-2 s) at SCHED_FIFO 90: the host is
# left as it was (cyclictest's /dev/cpu_dma_latency hold ends with it).
. "$(dirname "$0")/lib.sh"

BIN=$(dirname "$RTVNET")/../tests/unit
TOOL=${CYCLIC_TOOL:-$BIN/cyclic_tool}
[ -x "$TOOL" ] || die "no $TOOL: build the unit tests"
command -v cyclictest >/dev/null || die "cyclictest not installed (apt-get install rt-tests)"

# the JSON and text lines of the last run agree on every field but avg
same_both_ways() {
	local j t
	j=$(sed -n 's/^json: //p' "$TMP/out" | sed 's/ avg [0-9]*//')
	t=$(sed -n 's/^text: //p' "$TMP/out" | sed 's/ avg [0-9]*//')
	[ -n "$j" ] && [ "$j" = "$t" ] || { cat "$TMP/out" >&2; die "JSON and text differ: '$j' / '$t'"; }
}
# field NAME: the JSON line's value of NAME
field() { sed -n "s/^json: .* $1 \\(-\\{0,1\\}[0-9]*\\).*/\\1/p" "$TMP/out"; }

remember_host

# one thread, 2 s at 100 us: at most 20001 cycles (fewer when wake-ups
# come later than a whole interval: cyclictest skips the missed ones)
expect 0 "$TOOL" "$TMP" 2 1 - 400
out_has '^argv: cyclictest -m -q -p90 -i100 -D2 -h400 --json='
out_has '^crosscheck: ok$'
same_both_ways
n=$(field samples)
[ "$n" -ge 1000 ] && [ "$n" -le 20001 ] || die "1 thread: $n samples in 2 s at 100 us"
p50=$(field p50)
[ "$p50" -ge 0 ] && [ "$p50" -lt 400000 ] || die "1 thread: p50 $p50 ns with a 400 us histogram"
grep -q '"rt_test_version:*": "2\.' "$TMP/cyclictest.json" || die "no rt_test_version in the JSON"
head -c 4 "$TMP/cdf.svg" | grep -q '<svg' || die "no SVG written"
echo "info: 1 thread: $(sed -n 's/^json: //p' "$TMP/out")"

# two pinned threads, 20 us histogram
expect 0 "$TOOL" "$TMP" 2 2 0,1 20
out_has '^argv: cyclictest -m -q -p90 -i100 -D2 -h20 -t2 -a0,1 --json='
out_has '^crosscheck: ok$'
out_has '^json: threads 2 '
same_both_ways
grep -q '^# Histogram Overflows: [0-9]* [0-9]*$' "$TMP/cyclictest.txt" ||
	die "no per-thread overflow line in cyclictest's output"
echo "info: 2 threads, -h 20: $(sed -n 's/^json: //p' "$TMP/out")"

# two threads, no histogram: "T:" lines, no percentile
expect 0 "$TOOL" "$TMP" 1 2 0,1 0
out_has '^argv: cyclictest -m -q -p90 -i100 -D1 -t2 -d0 -a0,1 --json='
out_has '^crosscheck: ok$'
out_has '^json: .* overflows 0 .* p50 -1 p99 -1 p999 -1$'
grep -q '^T: 1 ' "$TMP/cyclictest.txt" || die "no 'T: 1' line without -h"

same_as_before "after cyclictest runs"
echo "ok"
