#!/usr/bin/env bash
# Issue 12's target: a method that keeps the RT CPU shared with the bulk work
# (its stream throughput >= 95% of vanilla's in the same run) with the RT p99
# <= 1.25x idle's, with 1 stream and with 2, each in one interleaved compare
# (REPEATS repeats of SECONDS per run; compare's defaults are 3 and 20).
# The candidates: separate, separate+steer, busypoll and hybrid with
# --shared; vanilla and dedicated run beside them as references. Prints per
# stream count and method the p99 (mean and min-max over repeats), its ratio
# to idle's, the Gbit/s and its ratio to vanilla's, and one PASS/FAIL line
# per stream count naming the methods that meet both bounds. With --stages
# the compare also traces each run's stages (when the tracer is built).
#
# usage: bench/bench_shared.sh RTVNET [REPEATS] [SECONDS]
set -uo pipefail
RTVNET=${1:?usage: bench_shared.sh RTVNET [REPEATS] [SECONDS]}
REPEATS=${2:-3}
SECS=${3:-20}
P99_BOUND=1.25
GBIT_BOUND=0.95
command -v jq >/dev/null || { echo "needs jq"; exit 77; }
mkdir -p results
fail=0
for n in 1 2; do
	json=results/bench-shared-s$n.json
	"$RTVNET" compare --methods vanilla,dedicated,separate,separate+steer,busypoll,hybrid \
		--shared --streams "$n" --repeats "$REPEATS" --duration "${SECS}s" --json "$json" \
		>"results/bench-shared-s$n.txt" ||
		{ echo "FAIL bench_shared: compare (--streams $n) failed"; exit 1; }
	jq -r --argjson pb "$P99_BOUND" --argjson gb "$GBIT_BOUND" '
	  [.runs[]] as $r
	  | ([$r[] | select(.method == "idle") | .rtt_us.p99] | add / length) as $idle
	  | ([$r[] | select(.method == "vanilla") | .stream_gbit_s] | add / length) as $van
	  | ($r | group_by(.method)[] | select(.[0].method != "idle")
	     | ([.[].rtt_us.p99] | add / length) as $p99
	     | ([.[].stream_gbit_s] | add / length) as $g
	     | "\(.[0].method) p99 \($p99 | round) (\([.[].rtt_us.p99] | min | round)-\([.[].rtt_us.p99] | max | round)) us = \($p99 / $idle * 100 | round / 100)x idle \($idle | round), \($g * 10 | round / 10) Gbit/s = \($g / $van * 100 | round / 100)x vanilla\(if (.[0].method | test("^(separate|separate\\+steer|busypoll|hybrid)$")) and $p99 / $idle <= $pb and $g / $van >= $gb then "  MEETS" else "" end)")' \
		"$json" | sed "s/^/streams $n: /" | tee "results/bench-shared-s$n.lines"
	meets=$(grep -c "MEETS" "results/bench-shared-s$n.lines")
	if [ "$meets" -gt 0 ]; then
		echo "PASS bench_shared streams $n: target a shared-CPU method with p99 <= ${P99_BOUND}x idle and Gbit/s >= ${GBIT_BOUND}x vanilla: measured $(grep MEETS "results/bench-shared-s$n.lines" | awk '{print $3}' | paste -sd, -)"
	else
		echo "FAIL bench_shared streams $n: target a shared-CPU method with p99 <= ${P99_BOUND}x idle and Gbit/s >= ${GBIT_BOUND}x vanilla: measured none"
		fail=1
	fi
done
exit $fail
