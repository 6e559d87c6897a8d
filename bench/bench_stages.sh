#!/usr/bin/env bash
# The stage tracer's cost (issue 12): NetRT over the testbed's RT path
# (rtv-rtc -> rtv-host -> bridge -> rtv-rts, no load) without and with
# `rtvnet trace` on its port, interleaved run by run (off, on, off, ...),
# REPEATS times, SECONDS each. Prints the RTT p50 and p99 of each mode (mean
# and min-max over repeats) and their ratio with/without, and one target:
# the p50 with the tracer at most 5% above the p50 without.
#
# usage: bench/bench_stages.sh RTVNET [REPEATS] [SECONDS]
# Needs root and jq (exit 77 without); brings the testbed up and down (exit 1
# when one is already up).
set -uo pipefail
RTVNET=${1:?usage: bench_stages.sh RTVNET [REPEATS] [SECONDS]}
REPEATS=${2:-5}
SECS=${3:-10}
PORT=7241
command -v jq >/dev/null || { echo "needs jq"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 77; }
[ "$(nproc)" -ge 2 ] || { echo "needs 2 CPUs"; exit 77; }
TMP=$(mktemp -d)
cleanup() {
	[ -n "${SP:-}" ] && kill "$SP" 2>/dev/null && wait "$SP" 2>/dev/null
	"$RTVNET" testbed down >/dev/null 2>&1
	rm -rf "$TMP"
}
"$RTVNET" testbed up --streams 1 >/dev/null || { echo "FAIL bench_stages: testbed up failed (one up already?)"; exit 1; }
trap cleanup EXIT
# floating, as compare's idle arm runs them (pinned apart, each request wakes
# two idle CPUs: the p50 doubles, which would shrink the tracer's share)
ip netns exec rtv-rts "$RTVNET" netrt server --port "$PORT" >/dev/null 2>&1 &
SP=$!
sleep 0.5
for r in $(seq "$REPEATS"); do
	for mode in off on; do
		tp=
		if [ "$mode" = on ]; then
			"$RTVNET" trace --port "$PORT" --duration "$((SECS + 3))s" --json "$TMP/trace-$r.json" \
				>"$TMP/trace-$r.out" 2>&1 &
			tp=$!
			sleep 1 # loaded and attached
		fi
		ip netns exec rtv-rtc "$RTVNET" netrt client --target 198.19.0.2 --port "$PORT" \
			--duration "$((SECS + 1))s" --warmup 1s --interval 1ms-2ms --seed "$r" \
			--json "$TMP/$mode-$r.json" >/dev/null 2>&1 ||
			{ echo "FAIL bench_stages: client ($mode, repeat $r) failed"; exit 1; }
		if [ -n "$tp" ]; then
			wait "$tp" || { cat "$TMP/trace-$r.out"; echo "FAIL bench_stages: trace (repeat $r) failed"; exit 1; }
		fi
	done
done
stat() { # MODE PCT: mean (min-max) over repeats, us
	jq -s -r --arg p "$2" '[.[].result.rtt_us[$p]] | "\(add / length * 10 | round / 10) (\(min * 10 | round / 10)-\(max * 10 | round / 10))"' \
		"$TMP"/"$1"-*.json
}
mean() { jq -s --arg p "$2" '[.[].result.rtt_us[$p]] | add / length' "$TMP"/"$1"-*.json; }
for m in off on; do
	echo "tracer $m: rtt p50 $(stat "$m" p50) us, p99 $(stat "$m" p99) us"
done
jq -s -r '"traced: \([.[].counts.paired] | add) round trips, \([.[].counts.kernel_drops] | add) events dropped, \([.[].counts.nonmonotone] | add) out of order"' \
	"$TMP"/trace-*.json
r50=$(awk -v a="$(mean on p50)" -v b="$(mean off p50)" 'BEGIN { printf "%.3f", a / b }')
r99=$(awk -v a="$(mean on p99)" -v b="$(mean off p99)" 'BEGIN { printf "%.3f", a / b }')
echo "ratio with/without the tracer: p50 $r50, p99 $r99"
if awk -v r="$r50" 'BEGIN { exit !(r <= 1.05) }'; then
	echo "PASS bench_stages p50 overhead: target ratio <= 1.05: measured $r50"
else
	echo "FAIL bench_stages p50 overhead: target ratio <= 1.05: measured $r50"
	exit 1
fi
